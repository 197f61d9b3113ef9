"""Read models: the public view of a parcel, safe to show anyone who knows one of its numbers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from sqlalchemy import Dialect, Engine, Executable, Select, bindparam, func, select, true
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.exc import DBAPIError
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
    number: str | None = None  # the tracking number the carrier reported it under


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
def _view_query(dialect: str) -> Select[Any]:
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
        event.tracking_number,
    ]  # read by position in _view: keep the two in step
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


def public_parcel(session: Session, number: str) -> PublicParcel | None:
    """The public view of the parcel that carries ``number``, newest event first.

    Indexed queries of plain columns: the parcel with its events, places and carriers, reached through
    the identifier, with the parcel's numbers on PostgreSQL (one round trip); on SQLite the numbers are a
    second query. (Lookups on PostgreSQL use :func:`lookup_public_parcel`, the same query without the
    session.)
    """
    normalized = normalize_number(number)
    session.flush()  # what session.execute would autoflush; the queries below bypass the ORM
    conn = session.connection()  # plain Core execution: no ORM result processing on the hot path
    dialect = conn.dialect.name
    rows = conn.execute(_view_query(dialect), {"number": normalized}).all()
    if not rows:
        return None
    if dialect == "postgresql":
        numbers = list(rows[0][NUMBERS_COLUMN] or ())
    else:
        numbers = list(conn.execute(_numbers_query(), {"parcel_id": rows[0][0]}).scalars())
    return _view(normalized, numbers, rows)


NUMBERS_COLUMN = 22  # the lateral array of the parcel's numbers (PostgreSQL), after the event's columns


@lru_cache(maxsize=2)
def _driver_sql(dialect: Dialect) -> str:
    """The view query compiled once for the driver's own paramstyle."""
    return str(_view_query(dialect.name).compile(dialect=dialect))


def lookup_public_parcel(engine: Engine, number: str) -> PublicParcel | None:
    """:func:`public_parcel` for a lookup on PostgreSQL: the same query and view, run on a pooled driver
    connection in autocommit as a prepared statement, with no session or SQLAlchemy execution around it
    (the hot path of every lookup: that machinery cost as much as the query itself).

    Driver errors come out as SQLAlchemy's (OperationalError for a lost server, as from a session), and a
    connection that failed is invalidated rather than returned to the pool.
    """
    normalized = normalize_number(number)
    sql = _driver_sql(engine.dialect)
    dbapi = engine.dialect.loaded_dbapi
    try:
        pooled = engine.raw_connection()
    except dbapi.Error as exc:  # the server is out of reach (raw_connection does not wrap this one)
        raise DBAPIError.instance(None, None, exc, dbapi.Error) from exc
    driver: Any = pooled.driver_connection
    try:
        driver.autocommit = True  # one read: no BEGIN, no ROLLBACK
        try:
            rows = driver.execute(sql, {"number": normalized}, prepare=True).fetchall()
        finally:
            if not driver.closed:
                driver.autocommit = False  # back to the pool as SQLAlchemy expects it
    except dbapi.Error as exc:
        if not isinstance(exc, dbapi.DataError):  # the connection may be broken
            pooled.invalidate(exc)
        raise DBAPIError.instance(sql, {"number": normalized}, exc, dbapi.Error) from exc
    finally:
        pooled.close()
    if not rows:
        return None
    return _view(normalized, list(rows[0][NUMBERS_COLUMN] or ()), rows)


def _utc(moment: datetime | None) -> datetime | None:
    """An instant in UTC, as the models' UTCDateTime gives it (the driver gives the server's zone)."""
    return moment.astimezone(UTC) if moment is not None else None


def _view(normalized: str, numbers: list[str], rows: Sequence[Sequence[Any]]) -> PublicParcel:
    """The public view from the view query's rows (by column position: see _view_query)."""
    first = rows[0]
    view = PublicParcel(
        id=int(first[0]),
        tracking_number=normalized,
        identifiers=numbers,
        status=first[1],
        substatus=first[2],
        status_at=_utc(first[3]),
        last_event_at=_utc(first[4]),
        service=first[5],
        origin=first[6],
        destination=first[7],
    )
    zones: dict[int, timezone] = {}
    events = view.events
    for r in rows:
        if r[8] is None:  # a parcel without events yet (registered by a merchant)
            continue
        offset = r[12]
        local = zones.get(offset)
        if local is None:
            local = zones[offset] = timezone(timedelta(minutes=offset))
        lat, lon = r[17], r[18]
        if lat == 0 and lon == 0:  # (0, 0) is no coordinate; ingestion stores None since, older rows may not
            lat = lon = None
        events.append(
            PublicEvent(r[9], r[10], r[11].astimezone(local), r[15], r[16], lat, lon, r[19], r[13], r[20],
                        r[14], r[21])
        )
    return view
