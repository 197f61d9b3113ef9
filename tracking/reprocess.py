"""Reprocessing: parse stored raw payloads again with the current adapters and correct their events.

The rule (docs/pull.md, "Reprocessing"): in one transaction per raw payload, the events that payload
gave are replaced by the events the current adapter derives from it.

- An event of the payload that the new parse reproduces (same tracking number and fingerprint: status,
  substatus, minute, place) is kept untouched, so an unchanged payload changes nothing.
- An event the new parse no longer produces (its status mapping changed, or its item is now invalid)
  is deleted.
- A derived event not stored yet is inserted through ingestion and attributed to the payload; one that
  another payload already stored stays with that payload (a duplicate, as on first receipt).
- Every parcel touched gets its status derived again from all its events: a correction may move a
  status backwards, which ingestion of new events never does. A parcel whose status changed is
  reported to its merchant's webhooks like any status change (``status_changed``, with ``previous``).

A code that the new parse maps (it is the raw code of a derived event and not counted as unmapped)
leaves the unmapped-codes report. Parsing is passed in (``parse``): carriers are not imported here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from tracking import models
from tracking.events import ParseResult, ScanEvent, as_utc
from tracking.ingest import CarrierRef, PlaceResolver, StatusChange, ingest
from tracking.statuses import Status
from tracking.timeline import StatusState, derive
from tracking.types import utcnow
from tracking.webhooks import enqueue_status_changes

ParseFn = Callable[[models.Carrier, bytes, str], ParseResult]


@dataclass(slots=True)
class PayloadChange:
    """What reprocessing one raw payload changed."""

    kept: int = 0
    added: int = 0
    removed: int = 0
    parcel_ids: set[int] = field(default_factory=set)
    changes: list[StatusChange] = field(default_factory=list)
    mapped_codes: set[str] = field(default_factory=set)
    unmapped_codes: set[str] = field(default_factory=set)


def payload_ids(session: Session, carrier_id: int | None = None, since: datetime | None = None) -> list[int]:
    """Ids of the stored raw payloads to reprocess, oldest first (optionally one carrier's, or recent)."""
    query = select(models.RawPayload.id).order_by(models.RawPayload.id)
    if carrier_id is not None:
        query = query.where(models.RawPayload.carrier_id == carrier_id)
    if since is not None:
        query = query.where(models.RawPayload.received_at >= since)
    return list(session.scalars(query))


def reprocess_payload(
    session: Session, payload_id: int, parse: ParseFn, resolve: PlaceResolver | None = None
) -> PayloadChange:
    """Replace one payload's events by those the current adapter derives; only flushes.

    ``parse`` raises tracking.events.PayloadError when the payload can no longer be read; nothing is
    changed then.
    """
    payload = session.get(models.RawPayload, payload_id)
    if payload is None:
        raise LookupError(f"no raw payload {payload_id}")
    carrier = session.get(models.Carrier, payload.carrier_id)
    assert carrier is not None
    parsed = parse(carrier, payload.body, payload.content_type)
    events = _resolved(parsed.events, resolve)
    derived = {(e.tracking_number, e.fingerprint()) for e in events}
    stored = session.execute(
        select(
            models.ScanEvent.id,
            models.ScanEvent.tracking_number,
            models.ScanEvent.fingerprint,
            models.ScanEvent.parcel_id,
        ).where(models.ScanEvent.raw_payload_id == payload_id)
    ).all()
    gone = [row for row in stored if (row.tracking_number, row.fingerprint) not in derived]
    before = _states(session, {row.parcel_id for row in gone})
    if gone:
        session.execute(delete(models.ScanEvent).where(models.ScanEvent.id.in_([row.id for row in gone])))
    report = ingest(
        session,
        CarrierRef(carrier.id, carrier.code),
        events,
        indexes=parsed.indexes,
        raw_payload_id=payload_id,
    )
    change = PayloadChange(
        kept=len(stored) - len(gone),
        added=report.accepted,
        removed=len(gone),
        parcel_ids={row.parcel_id for row in gone} | report.parcel_ids,
        unmapped_codes=set(parsed.unmapped),
    )
    change.mapped_codes = {e.raw_code for e in events if e.raw_code} - change.unmapped_codes
    if gone or report.accepted:
        for moved in report.changes:
            before.setdefault(moved.parcel_id, moved.old)
        change.changes = rederive_statuses(session, change.parcel_ids, before)
        enqueue_status_changes(session, change.changes)
    return change


def rederive_statuses(
    session: Session, parcel_ids: Iterable[int], before: dict[int, StatusState] | None = None
) -> list[StatusChange]:
    """Set each parcel's status, delivery time and first/last event times from all its events.

    Returns the parcels whose status differs from ``before`` (default: the status they had).
    """
    session.flush()
    ids = sorted(set(parcel_ids))
    old = _states(session, ids) | (before or {})
    changes: list[StatusChange] = []
    for parcel_id in ids:
        rows = session.execute(
            select(models.ScanEvent.status, models.ScanEvent.substatus, models.ScanEvent.occurred_at).where(
                models.ScanEvent.parcel_id == parcel_id
            )
        ).all()
        states = [StatusState(Status(s), sub, as_utc(at)) for s, sub, at in rows]
        new = derive(states)
        times = [state.at for state in states if state.at is not None]
        session.execute(
            update(models.Parcel)
            .where(models.Parcel.id == parcel_id)
            .values(
                status=new.status.value,
                substatus=new.substatus,
                status_at=new.at,
                delivered_at=new.at if new.status is Status.DELIVERED else None,
                first_event_at=min(times) if times else None,
                last_event_at=max(times) if times else None,
                updated_at=utcnow(),
            )
        )
        if parcel_id in old and old[parcel_id] != new:
            changes.append(StatusChange(parcel_id, old[parcel_id], new))
    return changes


def _states(session: Session, parcel_ids: Iterable[int]) -> dict[int, StatusState]:
    ids = sorted(set(parcel_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(
            models.Parcel.id, models.Parcel.status, models.Parcel.substatus, models.Parcel.status_at
        ).where(models.Parcel.id.in_(ids))
    ).all()
    return {pid: StatusState(Status(status), sub, at) for pid, status, sub, at in rows}


def forget_mapped_codes(session: Session, carrier_id: int, mapped: set[str], unmapped: set[str]) -> int:
    """Drop from the unmapped-codes report the carrier's codes that now have a mapping; how many."""
    resolved = sorted(code[:80] for code in mapped - unmapped)
    if not resolved:
        return 0
    result = session.execute(
        delete(models.UnmappedCode).where(
            models.UnmappedCode.carrier_id == carrier_id, models.UnmappedCode.code.in_(resolved)
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _resolved(events: list[ScanEvent], resolve: PlaceResolver | None) -> list[ScanEvent]:
    """Resolve places first, as ingestion does, so fingerprints compare with the stored ones."""
    if resolve is None:
        return events
    return [
        e
        if e.location.is_empty() or e.location.place_id
        else dataclasses.replace(e, location=resolve(e.location))
        for e in events
    ]
