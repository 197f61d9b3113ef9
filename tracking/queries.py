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
    """The public view of the parcel that carries ``number``, newest event first."""
    parcel_id = find_parcel_id(session, number)
    if parcel_id is None:
        return None
    parcel = session.get(models.Parcel, parcel_id)
    if parcel is None:
        return None
    view = PublicParcel(
        id=parcel.id,
        tracking_number=normalize_number(number),
        identifiers=[i.number for i in parcel.identifiers],
        status=parcel.status,
        substatus=parcel.substatus,
        status_at=parcel.status_at,
        last_event_at=parcel.last_event_at,
        service=parcel.service,
        origin=parcel.origin,
        destination=parcel.destination,
    )
    query = (
        select(models.ScanEvent, models.Location, models.Carrier.code)
        .join(models.Carrier, models.Carrier.id == models.ScanEvent.carrier_id)
        .outerjoin(models.Location, models.Location.id == models.ScanEvent.location_id)
        .where(models.ScanEvent.parcel_id == parcel_id)
        .order_by(models.ScanEvent.occurred_at.desc(), models.ScanEvent.id.desc())
    )
    for event, location, carrier_code in session.execute(query).all():
        local = timezone(timedelta(minutes=event.utc_offset_minutes))
        view.events.append(
            PublicEvent(
                status=event.status,
                substatus=event.substatus,
                occurred_at=event.occurred_at.astimezone(local),
                location_name=location.name if location else None,
                country=location.country if location else None,
                lat=location.lat if location else None,
                lon=location.lon if location else None,
                place_id=location.place_id if location else None,
                description=event.description,
                carrier=carrier_code,
                raw_code=event.raw_code,
            )
        )
    return view
