"""Read models: the public view of a parcel, safe to show anyone who knows one of its numbers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from sqlalchemy import Executable, bindparam, func, select, true
from sqlalchemy.dialects.postgresql import aggregate_order_by
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


@lru_cache(maxsize=4)
def _view_query(dialect: str) -> Executable:
    """The parcel with its events, places and carriers, through one of its numbers (built once).

    On PostgreSQL the parcel's numbers come along in the same round trip (a lateral ``array_agg``); SQLite,
    in process, reads them with a second query.
    """
    parcel, event, place = models.Parcel, models.ScanEvent, models.Location
    columns: list[Any] = [
        parcel.id,
        parcel.status.label("parcel_status"),
        parcel.substatus.label("parcel_substatus"),
        parcel.status_at,
        parcel.last_event_at,
        parcel.service,
        parcel.origin,
        parcel.destination,
        event.id.label("event_id"),
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
    ]
    numbers = None
    if dialect == "postgresql":
        mine = models.Identifier.__table__.alias("numbers_of_parcel")
        numbers = (
            select(func.array_agg(aggregate_order_by(mine.c.number, mine.c.id)).label("numbers"))
            .where(mine.c.parcel_id == parcel.id)
            .lateral("parcel_numbers")
        )
        columns.append(numbers.c.numbers)
    query = (
        select(*columns).select_from(models.Identifier).join(parcel, parcel.id == models.Identifier.parcel_id)
    )
    if numbers is not None:
        query = query.join(numbers, true())
    return (
        query.outerjoin(event, event.parcel_id == parcel.id)
        .outerjoin(place, place.id == event.location_id)
        .outerjoin(models.Carrier, models.Carrier.id == event.carrier_id)
        .where(models.Identifier.number == bindparam("number"))
        .order_by(event.occurred_at.desc(), event.id.desc())
    )


@lru_cache(maxsize=1)
def _numbers_query() -> Executable:
    """A parcel's tracking numbers in the order they were learnt (built once)."""
    return (
        select(models.Identifier.number)
        .where(models.Identifier.parcel_id == bindparam("parcel_id"))
        .order_by(models.Identifier.id)
    )


def begin_lookup(session: Session) -> None:
    """Make the session's reads for a lookup cheap: on PostgreSQL in autocommit, so no BEGIN or ROLLBACK
    round trips surround the one query (lookups only read; SQLite's read-only sessions begin DEFERRED)."""
    if session.get_bind().dialect.name == "postgresql" and not session.in_transaction():
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def public_parcel(session: Session, number: str) -> PublicParcel | None:
    """The public view of the parcel that carries ``number``, newest event first.

    Indexed queries of plain columns (the hot path of every lookup): the parcel with its events, places
    and carriers, reached through the identifier, with the parcel's numbers on PostgreSQL (one round
    trip); on SQLite the numbers are a second query.
    """
    normalized = normalize_number(number)
    session.flush()  # what session.execute would autoflush; the queries below bypass the ORM
    conn = session.connection()  # plain Core execution: no ORM result processing on the hot path
    dialect = conn.dialect.name
    rows = conn.execute(_view_query(dialect), {"number": normalized}).all()
    if not rows:
        return None
    first = rows[0]
    parcel_id = int(first.id)
    if dialect == "postgresql":
        numbers = list(first.numbers or ())
    else:
        numbers = list(conn.execute(_numbers_query(), {"parcel_id": parcel_id}).scalars())
    view = PublicParcel(
        id=parcel_id,
        tracking_number=normalized,
        identifiers=numbers,
        status=first.parcel_status,
        substatus=first.parcel_substatus,
        status_at=first.status_at,
        last_event_at=first.last_event_at,
        service=first.service,
        origin=first.origin,
        destination=first.destination,
    )
    zones: dict[int, timezone] = {}
    for r in rows:
        if r.event_id is None:  # a parcel without events yet (registered by a merchant)
            continue
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
