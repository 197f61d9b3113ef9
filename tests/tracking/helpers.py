"""Small builders shared by the tests of tracking's modules: a carrier, canonical scans, stored parcels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracking import models
from tracking.accounts import ensure_carrier, ensure_merchant
from tracking.events import Location, ScanEvent
from tracking.ingest import CarrierRef, IngestReport, ingest
from tracking.statuses import Status

T0 = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
SHENZHEN = Location(name="Shenzhen", country="CN", place_id="cn_shenzhen")
MOSCOW = Location(name="Moscow", country="RU", postcode="101000", place_id="ru_moscow")
CODE = "test_post"


def at(hours: float) -> datetime:
    """``hours`` after T0."""
    return T0 + timedelta(hours=hours)


def carrier(session: Session, code: str = CODE, fmt: str = "canonical") -> CarrierRef:
    """A carrier (created if new), as ingestion takes it."""
    row = ensure_carrier(session, code, fmt)
    return CarrierRef(row.id, row.code)


def merchant(session: Session, name: str = "Shenzhen Gadgets") -> int:
    """A merchant's id (created if new)."""
    return ensure_merchant(session, name).id


def scan(
    number: str,
    hours: float,
    status: Status = Status.IN_TRANSIT,
    substatus: str = "departed",
    location: Location = SHENZHEN,
    **extra: object,
) -> ScanEvent:
    """A canonical scan of ``number`` at T0 + ``hours``."""
    return ScanEvent(number, status, substatus, at(hours), CODE, location, **extra)  # type: ignore[arg-type]


def store(
    session: Session, *events: ScanEvent, ref: CarrierRef | None = None, raw_payload_id: int | None = None
) -> IngestReport:
    """Ingest ``events`` from the test carrier (flushed, not committed)."""
    return ingest(session, ref or carrier(session), list(events), raw_payload_id=raw_payload_id, now=at(9000))


def parcel_of(session: Session, number: str) -> models.Parcel:
    """The parcel carrying ``number``, read fresh."""
    parcel_id = session.scalar(select(models.Identifier.parcel_id).where(models.Identifier.number == number))
    parcel = session.get(models.Parcel, parcel_id, populate_existing=True)
    assert parcel is not None, number
    return parcel
