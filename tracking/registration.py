"""Merchants register their parcels: tracking numbers, origin, destination, service and order reference.

Pure over a Session. A batch is all-or-nothing: ``parse_registrations`` lists every malformed item and
field (422), ``register`` lists every item that conflicts with stored parcels (409), and only a batch
without either is written (flushed; the caller commits). Registering is idempotent on the merchant's
reference. A number first seen in carrier scans belongs to an unowned parcel, which the registration
adopts; a number on another merchant's parcel is a conflict. ``ship_at`` must be within
tracking.plausibility.SHIP_AT (a year either side of now).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from tracking import models
from tracking.events import ItemError, normalize_number
from tracking.plausibility import SHIP_AT
from tracking.subscriptions import Subscriber, SubscriptionError, check_subscriber, subscribe
from tracking.types import utcnow

PlaceCheck = Callable[[str, str], str]
"""Given a place text and the field name, the network place id; raises ValueError with a message."""
ServiceCheck = Callable[[str], str]
"""Given a service code, the code; raises ValueError with a message."""

MAX_BATCH = 1000
MAX_IDENTIFIERS = 10
NUMBER = re.compile(r"^[A-Z0-9]{4,40}$")
NOTIFY = frozenset({"email", "language"})
FIELDS = frozenset({"identifiers", "origin", "destination", "service", "reference", "ship_at", "notify"})


class RegistrationRejected(Exception):
    """The batch was refused as a whole: 422 for malformed items, 409 for conflicts with stored parcels."""

    def __init__(self, status: int, errors: list[ItemError], total: int) -> None:
        super().__init__(f"{len(errors)} of {total} parcels cannot be registered")
        self.status = status
        self.errors = errors
        self.total = total


@dataclass(frozen=True, slots=True)
class Registration:
    """One parcel to register, checked: numbers normalised, places resolved to network ids."""

    index: int
    identifiers: tuple[str, ...]
    origin: str
    destination: str
    service: str
    reference: str
    ship_at: datetime | None = None
    notify: Subscriber | None = None  # a shopper to tell of the parcel's news (tracking/subscriptions.py)


@dataclass(frozen=True, slots=True)
class Registered:
    """A registered parcel; ``created`` is False when the reference was registered before."""

    index: int
    parcel_id: int
    identifiers: tuple[str, ...]
    reference: str
    status: str
    substatus: str
    created: bool


def parse_registrations(
    items: Sequence[object],
    check_place: PlaceCheck,
    check_service: ServiceCheck,
    now: datetime | None = None,
) -> list[Registration]:
    """Check every item and field of a batch; raise RegistrationRejected(422) listing all that are bad."""
    now = now or utcnow()
    if not items:
        raise RegistrationRejected(422, [ItemError(0, "send at least one parcel", "parcels")], 0)
    if len(items) > MAX_BATCH:
        error = ItemError(MAX_BATCH, f"at most {MAX_BATCH} parcels per request", "parcels")
        raise RegistrationRejected(422, [error], len(items))
    errors: list[ItemError] = []
    out: list[Registration] = []
    number_owner: dict[str, int] = {}
    reference_owner: dict[str, int] = {}
    for index, item in enumerate(items):
        found = _parse_item(index, item, check_place, check_service, now)
        if isinstance(found, list):
            errors += found
            continue
        for position, number in enumerate(found.identifiers):
            first = number_owner.setdefault(number, index)
            if first != index:
                errors.append(
                    ItemError(index, f"{number} is also in parcel {first}", f"identifiers[{position}]")
                )
        first_ref = reference_owner.setdefault(found.reference, index)
        if first_ref != index:
            errors.append(
                ItemError(index, f"reference {found.reference!r} is also parcel {first_ref}'s", "reference")
            )
        out.append(found)
    if errors:
        raise RegistrationRejected(422, errors, len(items))
    return out


def _parse_item(
    index: int, item: object, check_place: PlaceCheck, check_service: ServiceCheck, now: datetime
) -> Registration | list[ItemError]:
    if not isinstance(item, Mapping):
        return [ItemError(index, "each parcel must be a JSON object")]
    errors = [ItemError(index, "unknown field", str(name)) for name in item if name not in FIELDS]

    def text(name: str, limit: int) -> str:
        value = item.get(name)
        if not isinstance(value, str) or not value.strip():
            errors.append(ItemError(index, f"{name} is required (a non-empty string)", name))
            return ""
        if len(value.strip()) > limit:
            errors.append(ItemError(index, f"{name} is longer than {limit} characters", name))
        return value.strip()

    numbers = _identifiers(index, item.get("identifiers"), errors)
    places = {}
    for name in ("origin", "destination"):
        value = text(name, 200)
        if value:
            try:
                places[name] = check_place(value, name)
            except ValueError as exc:
                errors.append(ItemError(index, str(exc), name))
    service = text("service", 40)
    if service:
        try:
            service = check_service(service)
        except ValueError as exc:
            errors.append(ItemError(index, str(exc), "service"))
    reference = text("reference", 200)
    ship_at = _moment(index, item.get("ship_at"), "ship_at", errors, now)
    notify = _notify(index, item.get("notify"), errors)
    if errors:
        return errors
    return Registration(
        index, numbers, places["origin"], places["destination"], service, reference, ship_at, notify
    )


def _notify(index: int, value: object, errors: list[ItemError]) -> Subscriber | None:
    """The shopper a registration names to be told of the parcel's news (``{"email", "language"}``)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        errors.append(ItemError(index, "notify must be an object with email and language", "notify"))
        return None
    errors += [ItemError(index, "unknown field", f"notify.{name}") for name in value if name not in NOTIFY]
    try:
        return check_subscriber(value.get("email"), value.get("language"))
    except SubscriptionError as exc:
        errors.append(ItemError(index, str(exc), f"notify.{exc.field}"))
        return None


def _identifiers(index: int, value: object, errors: list[ItemError]) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        errors.append(
            ItemError(index, "identifiers must be a non-empty list of tracking numbers", "identifiers")
        )
        return ()
    if len(value) > MAX_IDENTIFIERS:
        errors.append(ItemError(index, f"at most {MAX_IDENTIFIERS} identifiers per parcel", "identifiers"))
        return ()
    numbers: list[str] = []
    for position, raw in enumerate(value):
        number = normalize_number(raw) if isinstance(raw, str) else ""
        if not NUMBER.match(number):
            errors.append(
                ItemError(index, "a tracking number is 4-40 letters and digits", f"identifiers[{position}]")
            )
        elif number not in numbers:
            numbers.append(number)
    return tuple(numbers)


def _moment(index: int, value: object, name: str, errors: list[ItemError], now: datetime) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        errors.append(ItemError(index, f"{name} must be ISO 8601 with a UTC offset", name))
        return None
    problem = SHIP_AT.check(moment, now, name)
    if problem is not None:
        errors.append(ItemError(index, problem, name))
        return None
    return moment


def register(session: Session, merchant_id: int, registrations: Sequence[Registration]) -> list[Registered]:
    """Create or adopt a parcel per registration; raise RegistrationRejected(409) on conflicts; flushes."""
    numbers = sorted({n for r in registrations for n in r.identifiers})
    parcel_of: dict[str, int] = {}
    for start in range(0, len(numbers), 1000):
        query = select(models.Identifier.number, models.Identifier.parcel_id).where(
            models.Identifier.number.in_(numbers[start : start + 1000])
        )
        parcel_of.update(dict(session.execute(query).all()))
    references = sorted({r.reference for r in registrations})
    by_reference: dict[str, models.Parcel] = {}
    for start in range(0, len(references), 1000):
        owned = select(models.Parcel).where(
            models.Parcel.merchant_id == merchant_id,
            models.Parcel.reference.in_(references[start : start + 1000]),
        )
        by_reference.update({p.reference or "": p for p in session.scalars(owned)})

    errors: list[ItemError] = []
    plan: list[tuple[Registration, models.Parcel | None, bool]] = []
    adopted: dict[int, int] = {}
    for reg in registrations:
        existing = by_reference.get(reg.reference)
        if existing is not None:
            known = {i.number for i in existing.identifiers}
            if set(reg.identifiers) <= known:
                plan.append((reg, existing, False))
            else:
                shown = ", ".join(sorted(known))
                errors.append(
                    ItemError(
                        reg.index,
                        f"reference {reg.reference!r} is already registered for {shown}",
                        "reference",
                    )
                )
            continue
        problem = _conflict(session, merchant_id, reg, parcel_of, adopted)
        if problem is not None:
            errors.append(problem)
            continue
        found = {parcel_of[n] for n in reg.identifiers if n in parcel_of}
        target = session.get(models.Parcel, found.pop()) if found else None
        if target is not None:
            adopted[target.id] = reg.index
        plan.append((reg, target, True))
    if errors:
        raise RegistrationRejected(409, errors, len(registrations))
    done = _write(session, merchant_id, plan, parcel_of)
    for reg, registered in zip(registrations, done, strict=True):
        if reg.notify is not None:  # double opt-in: a confirmation mail first (tracking/subscriptions.py)
            subscribe(session, registered.parcel_id, reg.notify)
    return done


def _conflict(
    session: Session, merchant_id: int, reg: Registration, parcel_of: dict[str, int], adopted: dict[int, int]
) -> ItemError | None:
    found = sorted({parcel_of[n] for n in reg.identifiers if n in parcel_of})
    if len(found) > 1:
        return ItemError(reg.index, "these tracking numbers belong to different parcels", "identifiers")
    if not found:
        return None
    position = next(i for i, n in enumerate(reg.identifiers) if n in parcel_of)
    field = f"identifiers[{position}]"
    number = reg.identifiers[position]
    if found[0] in adopted:
        return ItemError(reg.index, f"{number} is on the same parcel as parcel {adopted[found[0]]}", field)
    owner, reference = session.execute(
        select(models.Parcel.merchant_id, models.Parcel.reference).where(models.Parcel.id == found[0])
    ).one()
    if owner is None:
        return None
    if owner == merchant_id:
        return ItemError(reg.index, f"{number} is already registered under reference {reference!r}", field)
    return ItemError(reg.index, f"{number} belongs to another merchant's parcel", field)


def _write(
    session: Session,
    merchant_id: int,
    plan: list[tuple[Registration, models.Parcel | None, bool]],
    parcel_of: dict[str, int],
) -> list[Registered]:
    """Create the new parcels, fill in the registrations and add the numbers not stored yet."""
    parcels: list[models.Parcel] = []
    for reg, target, write in plan:
        parcel = target if target is not None else models.Parcel(status="pending", substatus="registered")
        if target is None:
            session.add(parcel)
        if write:
            parcel.merchant_id = merchant_id
            parcel.reference = reg.reference
            parcel.origin, parcel.destination, parcel.service = reg.origin, reg.destination, reg.service
            parcel.ship_at = reg.ship_at
        parcels.append(parcel)
    session.flush()
    fresh = [
        {"number": number, "parcel_id": parcel.id}
        for (reg, _, write), parcel in zip(plan, parcels, strict=True)
        if write
        for number in reg.identifiers
        if number not in parcel_of
    ]
    if fresh:
        session.execute(insert(models.Identifier), fresh)
    ids = sorted({p.id for p in parcels})
    numbers: dict[int, list[str]] = {}
    for start in range(0, len(ids), 1000):
        query = (
            select(models.Identifier.parcel_id, models.Identifier.number)
            .where(models.Identifier.parcel_id.in_(ids[start : start + 1000]))
            .order_by(models.Identifier.id)
        )
        for parcel_id, number in session.execute(query):
            numbers.setdefault(parcel_id, []).append(number)
    return [
        Registered(
            index=reg.index,
            parcel_id=parcel.id,
            identifiers=tuple(numbers.get(parcel.id, ())),
            reference=reg.reference,
            status=parcel.status,
            substatus=parcel.substatus,
            created=write,
        )
        for (reg, _, write), parcel in zip(plan, parcels, strict=True)
    ]
