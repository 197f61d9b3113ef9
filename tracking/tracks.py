"""Reading parcels as routing tracks: the plain data the ETA engine and the learner take.

This module returns plain tuples and dataclasses of its own, so ``tracking`` does not depend on
``routing``; the web layer turns them into ``routing.tracks.ParcelTrack``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracking import models
from tracking.events import as_utc


@dataclass(frozen=True, slots=True)
class StoredScan:
    """One stored event reduced to what routing needs."""

    place_id: str | None
    country: str | None
    status: str
    substatus: str
    at: datetime
    number: str | None = None  # the tracking number the event was reported under


@dataclass(slots=True)
class StoredTrack:
    """A parcel's registration and scans, oldest first."""

    parcel_id: int
    numbers: list[str]
    service: str | None
    origin: str | None
    destination: str | None
    delivered_at: datetime | None
    status: str
    scans: list[StoredScan] = field(default_factory=list)


def _scans_query(parcel_ids: list[int] | None = None, as_of: datetime | None = None):  # type: ignore[no-untyped-def]
    events = models.ScanEvent
    query = (
        select(
            events.parcel_id,
            models.Location.place_id,
            models.Location.country,
            events.status,
            events.substatus,
            events.occurred_at,
            events.tracking_number,
        )
        .outerjoin(models.Location, models.Location.id == events.location_id)
        .order_by(events.parcel_id, events.occurred_at, events.id)
    )
    if parcel_ids is not None:
        query = query.where(events.parcel_id.in_(parcel_ids))
    if as_of is not None:
        query = query.where(events.occurred_at <= as_of)
    return query


def load_tracks(
    session: Session, parcel_ids: list[int] | None = None, as_of: datetime | None = None, chunk: int = 5000
) -> Iterator[StoredTrack]:
    """Stream parcels with their scans (all parcels when ``parcel_ids`` is None), in parcel id order."""
    ids = parcel_ids
    if ids is None:
        ids = list(session.scalars(select(models.Parcel.id).order_by(models.Parcel.id)))
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        parcels = {p.id: p for p in session.scalars(select(models.Parcel).where(models.Parcel.id.in_(part)))}
        numbers: dict[int, list[str]] = {}
        for pid, number in session.execute(
            select(models.Identifier.parcel_id, models.Identifier.number)
            .where(models.Identifier.parcel_id.in_(part))
            .order_by(models.Identifier.id)
        ):
            numbers.setdefault(pid, []).append(number)
        scans: dict[int, list[StoredScan]] = {}
        for pid, place, country, status, sub, at, number in session.execute(_scans_query(part, as_of)):
            scans.setdefault(pid, []).append(StoredScan(place, country, status, sub, as_utc(at), number))
        for pid in part:
            parcel = parcels.get(pid)
            if parcel is None:
                continue
            yield StoredTrack(
                parcel_id=pid,
                numbers=numbers.get(pid, []),
                service=parcel.service,
                origin=parcel.origin,
                destination=parcel.destination,
                delivered_at=parcel.delivered_at,
                status=parcel.status,
                scans=scans.get(pid, []),
            )
