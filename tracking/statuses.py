"""The canonical status taxonomy: main statuses, their substatuses and how far along each one is."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """A parcel's or an event's main status (docs/contract.md)."""

    PENDING = "pending"
    INFO_RECEIVED = "info_received"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    AVAILABLE_FOR_PICKUP = "available_for_pickup"
    DELIVERED = "delivered"
    DELIVERY_FAILED = "delivery_failed"
    EXCEPTION = "exception"
    EXPIRED = "expired"


# Substatuses refine a main status; docs/statuses.md explains each one and maps it to 17TRACK and
# AfterShip. "other" exists under every status so that an unmapped carrier code still has a home.
SUBSTATUSES: dict[Status, tuple[str, ...]] = {
    Status.PENDING: ("registered", "other"),
    Status.INFO_RECEIVED: ("label_created", "awaiting_pickup", "other"),
    Status.IN_TRANSIT: (
        "picked_up",
        "arrived",
        "departed",
        "in_sorting",
        "export_customs",
        "export_cleared",
        "line_haul",
        "arrived_destination_country",
        "customs_processing",
        "customs_cleared",
        "customs_duty_paid",
        "handed_over",
        "forwarded",
        "other",
    ),
    Status.OUT_FOR_DELIVERY: ("courier", "other"),
    Status.AVAILABLE_FOR_PICKUP: ("post_office", "pickup_point", "parcel_locker", "other"),
    Status.DELIVERED: ("recipient", "pickup_point", "signed", "other"),
    Status.DELIVERY_FAILED: ("recipient_absent", "address_issue", "refused", "other"),
    Status.EXCEPTION: (
        "customs_held",
        "customs_duty_due",
        "returning",
        "returned",
        "lost",
        "damaged",
        "cancelled",
        "delayed",
        "other",
    ),
    Status.EXPIRED: ("no_updates", "other"),
}

# How far along the journey a status is; breaks ties between events stamped with the same instant.
PROGRESS: dict[Status, int] = {
    Status.PENDING: 0,
    Status.INFO_RECEIVED: 1,
    Status.IN_TRANSIT: 2,
    Status.EXCEPTION: 3,
    Status.DELIVERY_FAILED: 4,
    Status.OUT_FOR_DELIVERY: 5,
    Status.AVAILABLE_FOR_PICKUP: 6,
    Status.DELIVERED: 7,
    Status.EXPIRED: 8,
}

TERMINAL: frozenset[Status] = frozenset({Status.DELIVERED, Status.EXPIRED})

# States in which the parcel waits for its recipient to act (pay the import duties): its delivery date is
# theirs to set, so no ETA is told while a parcel is in one of them.
AWAITING_RECIPIENT: frozenset[tuple[str, str]] = frozenset({(Status.EXCEPTION.value, "customs_duty_due")})


def awaits_recipient(status: str, substatus: str) -> bool:
    """True when a parcel in this state waits for its recipient to act (AWAITING_RECIPIENT)."""
    return (status, substatus) in AWAITING_RECIPIENT


class UnknownStatus(ValueError):
    """A status or substatus outside the canonical taxonomy."""


def parse_status(status: str, substatus: str | None = None) -> tuple[Status, str]:
    """Validate a status and substatus pair, defaulting the substatus to "other"."""
    try:
        main = Status(status)
    except ValueError:
        allowed = ", ".join(s.value for s in Status)
        raise UnknownStatus(f"unknown status {status!r}; expected one of: {allowed}") from None
    sub = substatus or "other"
    if "/" in sub:
        prefix, _, sub = sub.partition("/")
        if prefix != main.value:
            raise UnknownStatus(f"substatus {substatus!r} does not belong to status {main.value!r}")
    if sub not in SUBSTATUSES[main]:
        allowed = ", ".join(SUBSTATUSES[main])
        raise UnknownStatus(
            f"unknown substatus {sub!r} for status {main.value!r}; expected one of: {allowed}"
        )
    return main, sub
