"""Read models for merchants: their own parcels, filtered and paged in order of last update."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from tracking import models
from tracking.events import normalize_number

IN_FLIGHT_DONE = ("delivered", "expired")


@dataclass(frozen=True, slots=True)
class ParcelFilter:
    """Which of a merchant's parcels to list."""

    statuses: tuple[str, ...] = ()
    delayed: bool | None = None
    updated_since: datetime | None = None
    reference: str | None = None
    origin: str | None = None
    destination: str | None = None
    carrier: str | None = None
    created_since: datetime | None = None
    created_before: datetime | None = None


def list_parcels(
    session: Session,
    merchant_id: int,
    where: ParcelFilter,
    limit: int,
    after: tuple[datetime, int] | None = None,
) -> list[models.Parcel]:
    """Up to ``limit`` of the merchant's parcels ordered by (updated_at, id), after the keyset ``after``."""
    p = models.Parcel
    query = select(p).where(p.merchant_id == merchant_id)
    if where.statuses:
        query = query.where(p.status.in_(where.statuses))
    if where.delayed is True:
        query = query.where(p.stalled_at.is_not(None))
    elif where.delayed is False:
        query = query.where(p.stalled_at.is_(None))
    if where.updated_since is not None:
        query = query.where(p.updated_at >= where.updated_since)
    query = _narrowed(query, where)
    if after is not None:
        moment, parcel_id = after
        query = query.where(or_(p.updated_at > moment, and_(p.updated_at == moment, p.id > parcel_id)))
    return list(session.scalars(query.order_by(p.updated_at, p.id).limit(limit)))


def _narrowed(query: Select[models.Parcel], where: ParcelFilter) -> Select[models.Parcel]:
    """``query`` narrowed by the filter's reference, lane, carrier and creation window."""
    p = models.Parcel
    if where.reference is not None:
        query = query.where(p.reference == where.reference)
    if where.origin is not None:
        query = query.where(p.origin == where.origin)
    if where.destination is not None:
        query = query.where(p.destination == where.destination)
    if where.created_since is not None:
        query = query.where(p.created_at >= where.created_since)
    if where.created_before is not None:
        query = query.where(p.created_at < where.created_before)
    if where.carrier is not None:
        # The carrier a number was read as (or corrected to), or one that scanned the parcel.
        named = select(models.Identifier.id).where(
            models.Identifier.parcel_id == p.id, models.Identifier.carrier_code == where.carrier
        )
        scanned = (
            select(models.ScanEvent.id)
            .join(models.Carrier, models.Carrier.id == models.ScanEvent.carrier_id)
            .where(models.ScanEvent.parcel_id == p.id, models.Carrier.code == where.carrier)
        )
        query = query.where(or_(named.exists(), scanned.exists()))
    return query


def merchant_parcel(session: Session, merchant_id: int, number: str) -> models.Parcel | None:
    """The merchant's parcel carrying ``number``; None when there is none or it is another's."""
    query = (
        select(models.Parcel)
        .join(models.Identifier, models.Identifier.parcel_id == models.Parcel.id)
        .where(models.Identifier.number == normalize_number(number), models.Parcel.merchant_id == merchant_id)
    )
    return session.scalar(query)


def parcels_by_id(session: Session, ids: Sequence[int]) -> dict[int, models.Parcel]:
    """Parcels by id, read fresh from the database."""
    query = select(models.Parcel).where(models.Parcel.id.in_(ids)).execution_options(populate_existing=True)
    return {p.id: p for p in session.scalars(query)}


def status_counts(session: Session, merchant_id: int) -> dict[str, int]:
    """How many of the merchant's parcels are in each status."""
    p = models.Parcel
    query = select(p.status, func.count()).where(p.merchant_id == merchant_id).group_by(p.status)
    return {status: int(count) for status, count in session.execute(query).all()}


def delayed_parcels(session: Session, merchant_id: int, limit: int = 100) -> list[models.Parcel]:
    """The merchant's stalled parcels, longest stalled first."""
    p = models.Parcel
    query = (
        select(p)
        .where(p.merchant_id == merchant_id, p.stalled_at.is_not(None), p.status.not_in(IN_FLIGHT_DONE))
        .order_by(p.stalled_at, p.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def parcels_in_flight(session: Session, merchant_id: int, limit: int = 1000) -> list[models.Parcel]:
    """The merchant's parcels not yet delivered, most recently updated first."""
    p = models.Parcel
    query = (
        select(p)
        .where(p.merchant_id == merchant_id, p.status.not_in(IN_FLIGHT_DONE))
        .order_by(p.updated_at.desc(), p.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))
