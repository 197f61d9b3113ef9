"""Read models: the public view of a parcel, safe to show anyone who knows one of its numbers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracking import models
from tracking.events import normalize_number


@dataclass(frozen=True, slots=True)
class PublicEvent:
    """One timeline entry as shown publicly; occurred_at is in the carrier's local offset."""

    status: str
    substatus: str
    occurred_at: datetime
    location_name: str | None
    country: str | None
    lat: float | None
    lon: float | None
    place_id: str | None
    description: str
    carrier: str
    raw_code: str | None


@dataclass(slots=True)
class PublicParcel:
    """A parcel as the public sees it: numbers, status and timeline, no merchant or personal data."""

    id: int
    tracking_number: str
    identifiers: list[str]
    status: str
    substatus: str
    status_at: datetime | None
    last_event_at: datetime | None
    service: str | None
    origin: str | None
    destination: str | None
    events: list[PublicEvent] = field(default_factory=list)


def find_parcel_id(session: Session, number: str) -> int | None:
    """The parcel that carries this tracking number, if any."""
    return session.scalar(
        select(models.Identifier.parcel_id).where(models.Identifier.number == normalize_number(number))
    )


def public_parcel(session: Session, number: str) -> PublicParcel | None:
    """The public view of the parcel that carries ``number``, newest event first.

    Three indexed queries of plain columns (the hot path of every lookup): the parcel through its
    identifier, the parcel's numbers, and its events with their places and carriers.
    """
    normalized = normalize_number(number)
    parcel = models.Parcel
    row = session.execute(
        select(
            parcel.id,
            parcel.status,
            parcel.substatus,
            parcel.status_at,
            parcel.last_event_at,
            parcel.service,
            parcel.origin,
            parcel.destination,
        )
        .join(models.Identifier, models.Identifier.parcel_id == parcel.id)
        .where(models.Identifier.number == normalized)
    ).first()
    if row is None:
        return None
    parcel_id = int(row.id)
    numbers = session.scalars(
        select(models.Identifier.number)
        .where(models.Identifier.parcel_id == parcel_id)
        .order_by(models.Identifier.id)
    ).all()
    view = PublicParcel(
        id=parcel_id,
        tracking_number=normalized,
        identifiers=list(numbers),
        status=row.status,
        substatus=row.substatus,
        status_at=row.status_at,
        last_event_at=row.last_event_at,
        service=row.service,
        origin=row.origin,
        destination=row.destination,
    )
    event, place = models.ScanEvent, models.Location
    query = (
        select(
            event.status,
            event.substatus,
            event.occurred_at,
            event.utc_offset_minutes,
            event.description,
            event.raw_code,
            place.name,
            place.country,
            place.lat,
            place.lon,
            place.place_id,
            models.Carrier.code,
        )
        .join(models.Carrier, models.Carrier.id == event.carrier_id)
        .outerjoin(place, place.id == event.location_id)
        .where(event.parcel_id == parcel_id)
        .order_by(event.occurred_at.desc(), event.id.desc())
    )
    zones: dict[int, timezone] = {}
    for r in session.execute(query):
        local = zones.get(r.utc_offset_minutes)
        if local is None:
            local = zones[r.utc_offset_minutes] = timezone(timedelta(minutes=r.utc_offset_minutes))
        view.events.append(
            PublicEvent(
                status=r.status,
                substatus=r.substatus,
                occurred_at=r.occurred_at.astimezone(local),
                location_name=r.name,
                country=r.country,
                lat=r.lat,
                lon=r.lon,
                place_id=r.place_id,
                description=r.description,
                carrier=r.code,
                raw_code=r.raw_code,
            )
        )
    return view
