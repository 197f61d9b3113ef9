"""Storing a parsed carrier payload: the raw payload row, its events, its counts and the unmapped codes.

Whatever door a payload came in by (push, pull, file import), once the carrier's adapter has parsed it
(web/ingestion.py: carriers are not imported here) it is stored by ``store_payload``, inside the door's
unit of work: this module flushes, never commits. By default a batch is all-or-nothing: one invalid
item raises BatchRejected with the per-item error list, and the door rolls back so nothing is written.
With ``partial=True`` the valid items are stored and the invalid ones listed as rejected. Items the
carrier answered for without events (notices) are counted as ignored and never reject the batch.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tracking import models
from tracking.events import ItemError, ItemNotice, ParseResult
from tracking.ingest import CarrierRef, IngestReport, PlaceResolver, ingest
from tracking.ingest_sql import is_postgres
from tracking.mail_outbox import enqueue_changes
from tracking.types import utcnow
from tracking.webhooks import enqueue_status_changes


class BatchRejected(Exception):
    """The batch was refused as a whole; ``errors`` lists the items at fault."""

    def __init__(self, errors: list[ItemError], total: int) -> None:
        super().__init__(f"{len(errors)} of {total} items are invalid")
        self.errors = errors
        self.total = total


@dataclass(slots=True)
class Outcome:
    """The answer to a payload: counts, rejected items, ignored items (with notices) and unmapped codes."""

    accepted: int = 0
    duplicates: int = 0
    rejected: list[ItemError] = field(default_factory=list)
    ignored: int = 0
    unmapped: dict[str, int] = field(default_factory=dict)
    report: IngestReport | None = None
    notices: list[ItemNotice] = field(default_factory=list)
    raw_payload_id: int | None = None  # the RawPayload row that holds the bytes

    def as_dict(self) -> dict[str, Any]:
        """The JSON body of the answer."""
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": [e.as_dict() for e in self.rejected],
            "ignored": self.ignored,
            "notices": [n.as_dict() for n in self.notices],
            "unmapped": self.unmapped,
        }


def check_batch(parsed: ParseResult, partial: bool) -> None:
    """Raise BatchRejected when an atomic batch has items the adapter could not read (nothing stored)."""
    if parsed.errors and not partial:
        raise BatchRejected(
            sorted(parsed.errors, key=lambda e: e.index), len(parsed.events) + len(parsed.errors)
        )


def store_payload(
    session: Session,
    carrier: models.Carrier,
    raw: bytes,
    content_type: str,
    source: str,
    parsed: ParseResult,
    partial: bool,
    resolve: PlaceResolver | None,
) -> Outcome:
    """Store one parsed payload in the caller's unit of work; flushes only.

    Raises BatchRejected for an atomic batch (``partial`` false) with an invalid item: the caller rolls
    back what was flushed. A collision with a concurrent writer surfaces as IntegrityError or
    OperationalError, and the caller's unit of work runs again (web.db.commit_unit).
    """
    check_batch(parsed, partial)
    payload = models.RawPayload(
        carrier_id=carrier.id,
        source=source,
        content_type=content_type[:100],
        sha256=hashlib.sha256(raw).hexdigest(),
        body=raw,
    )
    session.add(payload)
    session.flush()
    report = ingest(
        session,
        CarrierRef(carrier.id, carrier.code),
        parsed.events,
        indexes=parsed.indexes,
        raw_payload_id=payload.id,
        resolve=resolve,
    )
    rejected = sorted([*parsed.errors, *report.rejected], key=lambda e: e.index)
    if report.rejected and not partial:
        raise BatchRejected(rejected, len(parsed.events) + len(parsed.errors))
    payload.accepted, payload.duplicates, payload.rejected = report.accepted, report.duplicates, len(rejected)
    count_unmapped(session, carrier.id, parsed.unmapped)
    enqueue_status_changes(session, report.changes)
    enqueue_changes(
        session,
        [
            (c.parcel_id, c.old.status.value, c.old.substatus, c.new.status.value, c.new.substatus)
            for c in report.changes
        ],
        utcnow(),
    )
    session.flush()
    notices = sorted(parsed.notices, key=lambda n: n.index)
    return Outcome(
        report.accepted,
        report.duplicates,
        rejected,
        parsed.ignored,
        parsed.unmapped,
        report,
        notices,
        payload.id,
    )


def count_unmapped(session: Session, carrier_id: int, unmapped: dict[str, int]) -> None:
    """Add the payload's unmapped codes to the report: one upsert, codes in sorted order.

    An upsert rather than read-then-write: two batches bringing the same new code at once no longer
    collide on the unique (carrier, code) and start over; sorted, so they cannot deadlock either.
    """
    counts: dict[str, int] = {}
    for code, count in unmapped.items():
        counts[code[:80]] = counts.get(code[:80], 0) + count
    if not counts:
        return
    now = utcnow()
    table = models.UnmappedCode.__table__
    dialect = postgresql if is_postgres(session) else sqlite
    statement = dialect.insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=["carrier_id", "code"],
        set_={"count": table.c.count + statement.excluded.count, "last_seen": statement.excluded.last_seen},
    )
    rows = [
        {"carrier_id": carrier_id, "code": code, "count": counts[code], "first_seen": now, "last_seen": now}
        for code in sorted(counts)
    ]
    session.execute(statement, rows)
