"""The ingestion service: canonical events in, parcels and timelines out. Pure Python over a Session.

One call takes a batch of events from one carrier and, inside the caller's transaction (this module
only flushes; the caller commits once):
- checks each event once more (per-item errors, e.g. a scan stamped in the future);
- links every number an event mentions (its own and ``linked_numbers``) to one parcel, creating the
  parcel, adding identifiers, or merging two parcels that turn out to be the same;
- resolves locations to network places through the ``resolve`` function it is given, and stores them
  per carrier: a carrier's wording and coordinates of a place belong to its own events (locations are
  keyed by carrier and place, so one carrier's Kazan never shows another carrier's coordinates);
- stores each event once: the identity is ``(parcel, fingerprint)`` (what happened, when to the minute,
  where), so a re-sent or reworded scan is a duplicate; the unique constraint on that pair decides, in
  the insert itself (``ON CONFLICT DO NOTHING RETURNING``);
- moves each touched parcel's status forward by event time (tracking.timeline).

The CPU work (checks, place resolution, fingerprints) is done before the first lock is taken, and
every table is written with one statement per batch (tracking.ingest_sql), so the time a batch holds
its number locks, during which other batches naming the same numbers wait, stays short.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from tracking import ingest_sql as sql
from tracking import models
from tracking.events import ItemError, Location, ScanEvent, as_utc, normalize_number
from tracking.statuses import Status
from tracking.subscriptions import move_subscriptions
from tracking.timeline import PENDING, StatusState, apply, derive
from tracking.types import utcnow

PlaceResolver = Callable[[Location], Location]
MAX_FUTURE = timedelta(hours=24)
NEW_PARCEL: sql.ParcelState = (PENDING.status.value, PENDING.substatus, None, None, None)
LOCK_BUCKETS = sql.LOCK_BUCKETS
LOCATION_KEY_LENGTH = 300  # models.Location.key


@dataclass(frozen=True, slots=True)
class CarrierRef:
    """The carrier a batch comes from."""

    id: int
    code: str


@dataclass(slots=True)
class StatusChange:
    """A parcel whose derived status changed in this batch (for notifications)."""

    parcel_id: int
    old: StatusState
    new: StatusState


@dataclass(slots=True)
class IngestReport:
    """What a batch did: counts, per-item errors and the parcels it touched."""

    accepted: int = 0
    duplicates: int = 0
    rejected: list[ItemError] = field(default_factory=list)
    parcel_ids: set[int] = field(default_factory=set)
    changes: list[StatusChange] = field(default_factory=list)


def check_event(event: ScanEvent, now: datetime) -> tuple[str, str] | None:
    """Why an otherwise well-formed event cannot be accepted, and the field at fault; or None."""
    if event.occurred_at_utc > now + MAX_FUTURE:
        return "occurred_at is more than 24 hours in the future", "occurred_at"
    texts = {
        "tracking_number": event.tracking_number,
        "substatus": event.substatus,
        "description": event.description,
        "raw_code": event.raw_code,
        "location.name": event.location.name,
        "location.country": event.location.country,
        "location.postcode": event.location.postcode,
        "linked_numbers": "".join(event.linked_numbers),
    }
    for name, value in texts.items():
        if value and "\x00" in value:  # PostgreSQL cannot store it in text; it is never meaningful
            return f"{name} contains a NUL character", name
    for axis, degrees, bound in (("lat", event.location.lat, 90.0), ("lon", event.location.lon, 180.0)):
        if degrees is not None and not (math.isfinite(degrees) and abs(degrees) <= bound):
            return f"location.{axis} must be within ±{bound:g}, not {degrees!r}", f"location.{axis}"
    return None


def clean_event(event: ScanEvent) -> ScanEvent:
    """The event with its numbers in normal form and its coordinates meaningful (the same object if so).

    Adapters already normalize numbers (tracking.events.normalize_number); this is the backstop that
    makes every door's numbers one form. A location with only one coordinate, or at (0, 0), the null
    island feeds send for "unknown", has no coordinates.
    """
    number = normalize_number(event.tracking_number)
    linked = tuple(normalize_number(n) for n in event.linked_numbers)
    location = event.location
    lat, lon = location.lat, location.lon
    if (lat is None) != (lon is None) or (lat == 0 and lon == 0):
        location = replace(location, lat=None, lon=None)
    if number == event.tracking_number and linked == event.linked_numbers and location is event.location:
        return event
    return replace(event, tracking_number=number, linked_numbers=linked, location=location)


def ingest(
    session: Session,
    carrier: CarrierRef,
    events: Sequence[ScanEvent],
    *,
    indexes: Sequence[int] | None = None,
    raw_payload_id: int | None = None,
    resolve: PlaceResolver | None = None,
    now: datetime | None = None,
) -> IngestReport:
    """Store a batch of canonical events; only flushes, the caller commits."""
    now = now or utcnow()
    report = IngestReport()
    positions = list(indexes) if indexes is not None else list(range(len(events)))
    good: list[ScanEvent] = []
    for event, index in zip(events, positions, strict=True):
        problem = check_event(event, now)
        if problem:
            report.rejected.append(ItemError(index, *problem))
        else:
            good.append(clean_event(event))
    if not good:
        return report
    places = _resolve_locations(good, resolve)
    fingerprints = [e.fingerprint(place) for e, place in zip(good, places, strict=True)]
    place_keys = _location_keys(places, carrier)
    location_ids = sql.location_ids(session, {key: _location_columns(p) for p, key in place_keys.items()})
    links = _link_parcels(session, carrier, good)
    parcel_of = links.parcel_of
    rows = _event_rows(
        good, places, fingerprints, parcel_of, {p: location_ids[k] for p, k in place_keys.items()}
    )
    inserted = sql.insert_events(session, rows, carrier.id, raw_payload_id, now)
    fresh = [row for row in rows if (row["parcel_id"], row["fingerprint"]) in inserted]
    report.accepted = len(fresh)
    report.duplicates = len(good) - len(fresh)
    report.parcel_ids = {parcel_of[e.tracking_number] for e in good}
    report.changes = _advance_statuses(session, fresh, links)
    return report


def _resolve_locations(events: list[ScanEvent], resolve: PlaceResolver | None) -> list[Location]:
    """Each event's location, resolved to a network place where the resolver knows it (same order)."""
    if resolve is None:
        return [e.location for e in events]
    cache: dict[Location, Location] = {}
    out = []
    for event in events:
        location = event.location
        if location.is_empty() or location.place_id:
            out.append(location)
            continue
        resolved = cache.get(location)
        if resolved is None:
            resolved = cache[location] = resolve(location)
        out.append(resolved)
    return out


def location_key(place: Location, carrier: CarrierRef) -> str:
    """The storage key of a place as ``carrier`` reported it: a row of its own, with its own wording and
    coordinates (``Location.key()`` alone, the place's identity, is what event fingerprints use).

    Coordinates are part of the key, so a carrier that later reports the same place elsewhere gets a row
    for that too; a network place always carries the network's coordinates (web/places.py), one row.
    """
    key = f"carrier:{carrier.id}|{place.key()}"
    if place.lat is not None and place.lon is not None:
        key = f"{key}|{place.lat:.6f},{place.lon:.6f}"
    if len(key) > LOCATION_KEY_LENGTH:  # a very long place name: its digest keeps the key unique and short
        digest = hashlib.blake2b(key.encode("utf-8"), digest_size=16).hexdigest()
        key = f"carrier:{carrier.id}|#{digest}"
    return key


def _location_keys(places: list[Location], carrier: CarrierRef) -> dict[Location, str]:
    """The storage key of each distinct non-empty place."""
    keys: dict[Location, str] = {}
    for place in places:
        if place not in keys and not place.is_empty():
            keys[place] = location_key(place, carrier)
    return keys


def _location_columns(place: Location) -> dict[str, Any]:
    return {
        "name": place.name,
        "country": place.country,
        "postcode": place.postcode,
        "lat": place.lat,
        "lon": place.lon,
        "place_id": place.place_id,
    }


@dataclass(slots=True)
class Links:
    """Every number of a batch mapped to its parcel; the parcels that absorbed others, and the new ones."""

    parcel_of: dict[str, int]
    merged: set[int]
    created: set[int]


def _link_parcels(session: Session, carrier: CarrierRef, events: list[ScanEvent]) -> Links:
    """Map every number in the batch to its parcel id, creating and merging parcels as needed."""
    groups = _UnionFind()
    for event in events:
        groups.add(event.tracking_number)
        for other in event.linked_numbers:
            groups.union(event.tracking_number, other)
    numbers = sorted(groups.parent)
    members: dict[str, list[str]] = {}
    for number in numbers:
        members.setdefault(groups.find(number), []).append(number)
    sql.lock_numbers(session, numbers)
    existing = sql.identifier_parcels(session, numbers)
    parcel_of: dict[str, int] = {}
    merged: set[int] = set()
    without_parcel: list[list[str]] = []
    for group in members.values():
        found = sorted({existing[n] for n in group if n in existing})
        if not found:
            without_parcel.append(group)
            continue
        target = found[0]
        if len(found) > 1:
            _merge_parcels(session, target, found[1:])
            merged.add(target)
        for number in group:
            parcel_of[number] = target
    stamp = utcnow()
    created = sql.new_parcels(session, len(without_parcel), stamp) if without_parcel else []
    if without_parcel:
        for group, parcel_id in zip(without_parcel, created, strict=True):
            for number in group:
                parcel_of[number] = parcel_id
    own_numbers = {e.tracking_number for e in events}
    fresh = [
        {"number": n, "parcel_id": parcel_of[n], "carrier_code": carrier.code if n in own_numbers else None}
        for n in numbers
        if n not in existing
    ]
    sql.add_identifiers(session, fresh, stamp)
    return Links(parcel_of, merged, set(created))


def _merge_parcels(session: Session, target: int, others: list[int]) -> None:
    """Fold parcels ``others`` into ``target``: identifiers and events move, duplicate events go."""
    # Writers holding another number of these parcels must finish first (and later ones see the merge).
    sql.lock_numbers(
        session,
        sorted(
            session.scalars(
                select(models.Identifier.number).where(models.Identifier.parcel_id.in_([target, *others]))
            )
        ),
    )
    kept = set(
        session.scalars(select(models.ScanEvent.fingerprint).where(models.ScanEvent.parcel_id == target))
    )
    for other in others:
        moving = session.execute(
            select(models.ScanEvent.id, models.ScanEvent.fingerprint).where(
                models.ScanEvent.parcel_id == other
            )
        ).all()
        dupes = [row.id for row in moving if row.fingerprint in kept]
        kept.update(row.fingerprint for row in moving)
        if dupes:
            session.execute(delete(models.ScanEvent).where(models.ScanEvent.id.in_(dupes)))
        session.execute(
            update(models.ScanEvent).where(models.ScanEvent.parcel_id == other).values(parcel_id=target)
        )
        session.execute(
            update(models.Identifier).where(models.Identifier.parcel_id == other).values(parcel_id=target)
        )
        _adopt_registration(session, target, other)
        move_subscriptions(session, target, [other])
        session.execute(delete(models.Parcel).where(models.Parcel.id == other))


def _adopt_registration(session: Session, target: int, other: int) -> None:
    """Keep the merchant's registration details when the registered parcel is the one absorbed."""
    fields = ("merchant_id", "reference", "origin", "destination", "service")
    target_row = session.get(models.Parcel, target)
    other_row = session.get(models.Parcel, other)
    if target_row is None or other_row is None:
        return
    for name in fields:
        if getattr(target_row, name) is None and getattr(other_row, name) is not None:
            setattr(target_row, name, getattr(other_row, name))
    session.flush()
    session.expunge(other_row)


def _event_rows(
    events: list[ScanEvent],
    places: list[Location],
    fingerprints: list[str],
    parcel_of: dict[str, int],
    location_ids: dict[Location, int],
) -> list[dict[str, Any]]:
    """One row per distinct ``(parcel, fingerprint)`` of the batch (the first event of each wins)."""
    seen: set[tuple[int, str]] = set()
    rows: list[dict[str, Any]] = []
    for event, place, fingerprint in zip(events, places, fingerprints, strict=True):
        parcel_id = parcel_of[event.tracking_number]
        if (parcel_id, fingerprint) in seen:
            continue
        seen.add((parcel_id, fingerprint))
        rows.append(
            {
                "parcel_id": parcel_id,
                "tracking_number": event.tracking_number,
                "status": event.status.value,
                "substatus": event.substatus,
                "occurred_at": event.occurred_at_utc,
                "utc_offset_minutes": event.utc_offset_minutes,
                "location_id": location_ids.get(place),
                "description": event.description,
                "raw_code": event.raw_code,
                "fingerprint": fingerprint,
            }
        )
    return rows


def _advance_statuses(session: Session, rows: list[dict[str, Any]], links: Links) -> list[StatusChange]:
    """Move each parcel that got new events (or absorbed another) to its derived status.

    Parcels created by this batch are not read back: no other transaction can see them yet, so there
    is nothing to lock, and their state is that of a new parcel.
    """
    merged = links.merged
    by_parcel: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        by_parcel.setdefault(row["parcel_id"], []).append(row)
    touched = sorted(set(by_parcel) | merged)
    if not touched:
        return []
    current = sql.parcel_states(session, [p for p in touched if p not in links.created])
    current.update({p: NEW_PARCEL for p in touched if p in links.created})
    changes: list[StatusChange] = []
    updates: list[dict[str, Any]] = []
    for parcel_id in touched:
        status, substatus, status_at, first_at, last_at = current[parcel_id]
        old = StatusState(Status(status), substatus, status_at)
        if parcel_id in merged:
            columns = (models.ScanEvent.status, models.ScanEvent.substatus, models.ScanEvent.occurred_at)
            everything = session.execute(
                select(*columns).where(models.ScanEvent.parcel_id == parcel_id)
            ).all()
            times = [as_utc(t) for _, _, t in everything]
            new = derive([StatusState(Status(s), sub, as_utc(t)) for s, sub, t in everything])
        else:
            fresh = by_parcel[parcel_id]
            times = [row["occurred_at"] for row in fresh]
            new = apply(
                old, [StatusState(Status(r["status"]), r["substatus"], r["occurred_at"]) for r in fresh]
            )
            times += [t for t in (first_at, last_at) if t is not None]
        updates.append(
            {
                "id": parcel_id,
                "first_event_at": min(times) if times else None,
                "last_event_at": max(times) if times else None,
                "status": new.status.value,
                "substatus": new.substatus,
                "status_at": new.at,
                "delivered_at": new.at if new.status is Status.DELIVERED else None,
            }
        )
        if new != old:
            changes.append(StatusChange(parcel_id, old, new))
    sql.update_parcels(session, updates, utcnow())
    return changes


class _UnionFind:
    """Groups tracking numbers that an event says belong to the same parcel."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def add(self, item: str) -> None:
        self.parent.setdefault(item, item)

    def find(self, item: str) -> str:
        self.add(item)
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, a: str, b: str) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            self.parent[max(root_a, root_b)] = min(root_a, root_b)
