"""The ingestion service: canonical events in, parcels and timelines out. Pure Python over a Session.

One call takes a batch of events from one carrier and, inside the caller's transaction (this module
only flushes; the caller commits once):
- checks each event once more (per-item errors, e.g. a scan stamped in the future);
- links every number an event mentions (its own and ``linked_numbers``) to one parcel, creating the
  parcel, adding identifiers, or merging two parcels that turn out to be the same;
- resolves locations to network places through the ``resolve`` function it is given;
- stores each event once: the identity is ``(parcel, fingerprint)`` (what happened, when to the minute,
  where), so a re-sent or reworded scan is a duplicate, and a unique constraint backs this up;
- moves each touched parcel's status forward by event time (tracking.timeline).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, delete, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tracking import models
from tracking.events import ItemError, Location, ScanEvent, as_utc
from tracking.statuses import Status
from tracking.timeline import StatusState, apply, derive
from tracking.types import utcnow

PlaceResolver = Callable[[Location], Location]
PARCELS = cast(Table, models.Parcel.__table__)
CHUNK = 2000
MAX_FUTURE = timedelta(hours=24)


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


def check_event(event: ScanEvent, now: datetime) -> str | None:
    """Why an otherwise well-formed event cannot be accepted, or None."""
    if event.occurred_at_utc > now + MAX_FUTURE:
        return "occurred_at is more than 24 hours in the future"
    return None


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
            report.rejected.append(ItemError(index, problem, "occurred_at"))
        else:
            good.append(event)
    if not good:
        return report
    places = _resolve_locations(good, resolve)
    parcel_of, merged = _link_parcels(session, carrier, good)
    location_ids = _location_ids(session, places)
    rows = _new_event_rows(session, carrier, good, places, parcel_of, location_ids, raw_payload_id, now)
    report.duplicates = len(good) - len(rows)
    report.accepted = len(rows)
    if rows:
        session.execute(_insert_ignoring_duplicates(session, models.ScanEvent.__table__), rows)
    report.parcel_ids = {parcel_of[e.tracking_number] for e in good}
    report.changes = _advance_statuses(session, rows, merged)
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


def _chunks(items: Sequence[str] | Sequence[int], size: int = CHUNK) -> Iterator[list]:  # type: ignore[type-arg]
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _link_parcels(
    session: Session, carrier: CarrierRef, events: list[ScanEvent]
) -> tuple[dict[str, int], set[int]]:
    """Map every number in the batch to its parcel id; also return the parcels that absorbed others."""
    groups = _UnionFind()
    for event in events:
        groups.add(event.tracking_number)
        for other in event.linked_numbers:
            groups.union(event.tracking_number, other)
    numbers = sorted(groups.parent)
    _lock_numbers(session, numbers)
    existing: dict[str, int] = {}
    for chunk in _chunks(numbers):
        query = select(models.Identifier.number, models.Identifier.parcel_id).where(
            models.Identifier.number.in_(chunk)
        )
        existing.update(dict(session.execute(query).all()))

    members: dict[str, list[str]] = {}
    for number in numbers:
        members.setdefault(groups.find(number), []).append(number)
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
    if without_parcel:
        stamp = utcnow()
        created = session.execute(
            insert(models.Parcel).returning(models.Parcel.id, sort_by_parameter_order=True),
            [{"created_at": stamp, "updated_at": stamp} for _ in without_parcel],
        ).scalars()
        for group, parcel_id in zip(without_parcel, created, strict=True):
            for number in group:
                parcel_of[number] = parcel_id
    own_numbers = {e.tracking_number for e in events}
    fresh = [
        {"number": n, "parcel_id": parcel_of[n], "carrier_code": carrier.code if n in own_numbers else None}
        for n in numbers
        if n not in existing
    ]
    if fresh:
        session.execute(insert(models.Identifier), fresh)
    return parcel_of, merged


def _merge_parcels(session: Session, target: int, others: list[int]) -> None:
    """Fold parcels ``others`` into ``target``: identifiers and events move, duplicate events go."""
    # Writers holding another number of these parcels must finish first (and later ones see the merge).
    _lock_numbers(
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


def _location_ids(session: Session, locations: Iterable[Location]) -> dict[str, int]:
    wanted = {loc.key(): loc for loc in locations if not loc.is_empty()}
    if not wanted:
        return {}
    found: dict[str, int] = {}
    keys = sorted(wanted)
    for chunk in _chunks(keys):
        query = select(models.Location.key, models.Location.id).where(models.Location.key.in_(chunk))
        found.update(dict(session.execute(query).all()))
    missing = [k for k in keys if k not in found]
    if missing:
        rows = [
            {
                "key": k,
                "name": wanted[k].name,
                "country": wanted[k].country,
                "postcode": wanted[k].postcode,
                "lat": wanted[k].lat,
                "lon": wanted[k].lon,
                "place_id": wanted[k].place_id,
            }
            for k in missing
        ]
        session.execute(_insert_ignoring_duplicates(session, models.Location.__table__), rows)
        for chunk in _chunks(missing):
            query = select(models.Location.key, models.Location.id).where(models.Location.key.in_(chunk))
            found.update(dict(session.execute(query).all()))
    return found


def _new_event_rows(
    session: Session,
    carrier: CarrierRef,
    events: list[ScanEvent],
    places: list[Location],
    parcel_of: dict[str, int],
    location_ids: dict[str, int],
    raw_payload_id: int | None,
    now: datetime,
) -> list[dict[str, object]]:
    keys: dict[Location, str] = {}
    for place in places:
        if place not in keys:
            keys[place] = place.key()
    keyed = [
        (parcel_of[e.tracking_number], e.fingerprint(place), e, place)
        for e, place in zip(events, places, strict=True)
    ]
    parcels = sorted({pid for pid, _, _, _ in keyed})
    fingerprints = sorted({fp for _, fp, _, _ in keyed})
    seen: set[tuple[int, str]] = set()
    for parcel_chunk in _chunks(parcels):
        for fp_chunk in _chunks(fingerprints):
            query = select(models.ScanEvent.parcel_id, models.ScanEvent.fingerprint).where(
                models.ScanEvent.parcel_id.in_(parcel_chunk), models.ScanEvent.fingerprint.in_(fp_chunk)
            )
            seen.update(session.execute(query).all())
    rows: list[dict[str, object]] = []
    for parcel_id, fingerprint, event, location in keyed:
        if (parcel_id, fingerprint) in seen:
            continue
        seen.add((parcel_id, fingerprint))
        rows.append(
            {
                "parcel_id": parcel_id,
                "carrier_id": carrier.id,
                "tracking_number": event.tracking_number,
                "status": event.status.value,
                "substatus": event.substatus,
                "occurred_at": event.occurred_at_utc,
                "utc_offset_minutes": event.utc_offset_minutes,
                "location_id": None if location.is_empty() else location_ids[keys[location]],
                "description": event.description,
                "raw_code": event.raw_code,
                "fingerprint": fingerprint,
                "raw_payload_id": raw_payload_id,
                "received_at": now,
            }
        )
    return rows


def _advance_statuses(
    session: Session, rows: list[dict[str, object]], merged: set[int]
) -> list[StatusChange]:
    by_parcel: dict[int, list[dict[str, object]]] = {}
    for row in rows:
        by_parcel.setdefault(row["parcel_id"], []).append(row)  # type: ignore[arg-type]
    touched = sorted(set(by_parcel) | merged)
    if not touched:
        return []
    parcels = PARCELS.c
    current: dict[int, tuple[str, str, datetime | None, datetime | None, datetime | None]] = {}
    for chunk in _chunks(touched):
        query = (
            select(
                parcels.id,
                parcels.status,
                parcels.substatus,
                parcels.status_at,
                parcels.first_event_at,
                parcels.last_event_at,
            )
            .where(parcels.id.in_(chunk))
            .order_by(parcels.id)
            .with_for_update()
        )
        current.update({row[0]: tuple(row[1:]) for row in session.execute(query)})  # type: ignore[misc]
    changes: list[StatusChange] = []
    updates: list[dict[str, object]] = []
    stamp = utcnow()
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
            times = [t for t in (row["occurred_at"] for row in fresh) if isinstance(t, datetime)]
            candidates = [
                StatusState(Status(str(r["status"])), str(r["substatus"]), r["occurred_at"])  # type: ignore[arg-type]
                for r in fresh
            ]
            new = apply(old, candidates)
            times += [t for t in (first_at, last_at) if t is not None]
        updates.append(
            {
                "b_id": parcel_id,
                "first_event_at": min(times) if times else None,
                "last_event_at": max(times) if times else None,
                "status": new.status.value,
                "substatus": new.substatus,
                "status_at": new.at,
                "delivered_at": new.at if new.status is Status.DELIVERED else None,
                "updated_at": stamp,
            }
        )
        if new != old:
            changes.append(StatusChange(parcel_id, old, new))
    statement = (
        update(PARCELS)
        .where(parcels.id == bindparam("b_id"))
        .values({name: bindparam(name) for name in updates[0] if name != "b_id"})
    )
    session.execute(statement, updates)
    return changes


# Numbers are hashed into a fixed set of lock keys, so one transaction never holds more than this many
# advisory locks (one per number exhausted PostgreSQL's lock table with a few 5,000-number batches at
# once). Two batches that share a bucket but no number wait for each other; that is only slower.
LOCK_BUCKETS = 512
LOCK_NAMESPACE = 0x511C << 32


def _lock_key(number: str) -> int:
    bucket = int.from_bytes(hashlib.blake2b(number.encode(), digest_size=8).digest(), "big") % LOCK_BUCKETS
    return LOCK_NAMESPACE + bucket


def _lock_numbers(session: Session, numbers: Sequence[str]) -> None:
    """On PostgreSQL, hold a transaction-level advisory lock per tracking number (bucket) until commit.

    Two batches naming the same number then link and merge parcels one after the other instead of both
    creating the parcel (a unique violation) or one merging a parcel away under the other (a foreign-key
    violation). Keys are taken in sorted order so that writers cannot deadlock on each other. SQLite
    needs none of this: BEGIN IMMEDIATE already lets one writer in at a time.
    """
    if not numbers or session.get_bind().dialect.name != "postgresql":
        return
    keys = sorted({_lock_key(n) for n in numbers})
    session.execute(
        text(
            "SELECT pg_advisory_xact_lock(s.k) "
            "FROM (SELECT unnest(CAST(:keys AS bigint[])) AS k ORDER BY 1) s"
        ),
        {"keys": keys},
    )


def _insert_ignoring_duplicates(session: Session, table: object):  # type: ignore[no-untyped-def]
    """INSERT … ON CONFLICT DO NOTHING for the session's dialect (a concurrent writer got there first)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()  # type: ignore[arg-type]
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()  # type: ignore[arg-type]
    return insert(table)  # type: ignore[arg-type]


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
