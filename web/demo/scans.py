"""The simulated scans and journeys as plain data, with the carriers' codes that matter to the world."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from routing.network import TimeRange
from web.demo.world import ParcelPlan

CN, RP, CDEK = "cainiao", "russian_post", "cdek"
BEIJING = "Asia/Shanghai"
CUSTOMS_ROLES = {"import_exchange", "import_exchange_and_sorting", "rail_terminal"}
EXCHANGE_ROLES = {"import_exchange", "import_exchange_and_sorting"}
DEFAULT_CUSTOMS = TimeRange(12, 36, 120)
HOLD = TimeRange(48, 168, 600)
PICKUP_WAIT = TimeRange(2, 40, 240)
# Scans that carry the parcel's fate or its hand-over are never dropped by the simulated feeds.
DELIVERED_CODES = {"2.1", "2.6", "DELIVERED"}
RETURN_CODES = {"3.4", "3.7", "SENT_TO_SENDER_CITY", "RT_INBOUND"}
PROTECTED = {
    "GWMS_ACCEPT",
    "LH_HO_OUT_SUCCESS",
    "GTMS_ACCEPT",
    "2.1",
    "2.6",
    "3.4",
    "3.7",
    "5.1",
    "DELIVERED",
    "NOT_DELIVERED",
    "SENT_TO_SENDER_CITY",
    "RETURNED",
    "RT_WH_HO_IN",
    "RT_INBOUND",
}


@dataclass(slots=True)
class Scan:
    """One carrier scan as it really happened, and how the carrier's feed will report it."""

    carrier: str
    number: str
    code: str
    at: datetime
    place: str
    office: tuple[str, str] | None = None
    reported_at: datetime | None = None
    resend_at: datetime | None = None
    sent: bool = True


@dataclass(slots=True)
class Journey:
    """A parcel's plan, its scans in time order and its fate (delivered, lost or returned)."""

    plan: ParcelPlan
    scans: list[Scan]
    fate: str
    final_at: datetime | None
    delivered_at: datetime | None
    shipped_at: datetime

    def fate_at(self, now: datetime) -> str:
        """The fate as known at ``now``: in_flight until it has happened."""
        if self.final_at is not None and self.final_at <= now:
            return self.fate
        return "in_flight"

    def delivered_by(self, now: datetime) -> datetime | None:
        """The delivery instant if it happened by ``now``."""
        return self.delivered_at if self.delivered_at and self.delivered_at <= now else None
