"""The one path every carrier payload takes, whatever door it came in by (push, pull, file import).

Parse with the carrier's adapter, store the raw payload and the events in one transaction, and answer
with counts. By default a batch is all-or-nothing: one invalid item rejects the whole batch with a
per-item error list and nothing is written. With ``partial=True`` the valid items are stored (still
atomically, as one transaction) and the invalid ones are listed as rejected. Items the carrier
answered for without events (notices, e.g. a Russian Post "no data for that number") are neither:
they are counted as ignored, named in the answer, and never reject the batch.
"""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from carriers import ADAPTERS
from tracking import models
from tracking.events import ItemError, ItemNotice, ParseResult, PayloadError
from tracking.ingest import CarrierRef, IngestReport, PlaceResolver, ingest
from tracking.ingest_sql import is_postgres
from tracking.types import utcnow
from tracking.webhooks import enqueue_status_changes

RETRIES = 6
RETRY_PAUSE = 0.02  # seconds; doubled after each failed attempt, with jitter


class BatchRejected(Exception):
    """The batch was refused as a whole; ``errors`` lists the items at fault."""

    def __init__(self, errors: list[ItemError], total: int) -> None:
        super().__init__(f"{len(errors)} of {total} items are invalid")
        self.errors = errors
        self.total = total


class PayloadUnreadable(Exception):
    """The payload cannot be read at all (wrong format, not JSON/XML/CSV)."""


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


def parse_payload(carrier: models.Carrier, raw: bytes, content_type: str) -> ParseResult:
    """Run the carrier's adapter over the raw bytes."""
    adapter = ADAPTERS.get(carrier.format)
    if adapter is None:
        raise PayloadUnreadable(
            f"carrier {carrier.code!r} has format {carrier.format!r}, which has no adapter"
        )
    try:
        return adapter.parse(raw, content_type, carrier.code)
    except PayloadError as exc:
        raise PayloadUnreadable(str(exc)) from None


def accept_payload(
    session: Session,
    carrier: models.Carrier,
    raw: bytes,
    content_type: str,
    *,
    source: str,
    partial: bool = False,
    resolve: PlaceResolver | None = None,
    max_events: int = 50_000,
) -> Outcome:
    """Parse, validate and store one payload; commits on success, writes nothing on rejection."""
    parsed = parse_payload(carrier, raw, content_type)
    if len(parsed.events) > max_events:
        raise PayloadUnreadable(f"the payload holds {len(parsed.events)} events; the limit is {max_events}")
    if parsed.errors and not partial:
        raise BatchRejected(
            sorted(parsed.errors, key=lambda e: e.index), len(parsed.events) + len(parsed.errors)
        )
    for attempt in range(RETRIES):
        try:
            return _store(session, carrier, raw, content_type, source, parsed, partial, resolve)
        except (IntegrityError, OperationalError):
            # A concurrent writer created the same identifier or location first, or two merges
            # deadlocked: start again after a jittered pause so the writers stop colliding.
            session.rollback()
            if attempt == RETRIES - 1:
                raise
            time.sleep(random.uniform(0, RETRY_PAUSE * 2**attempt))
    raise AssertionError("unreachable")


def _store(
    session: Session,
    carrier: models.Carrier,
    raw: bytes,
    content_type: str,
    source: str,
    parsed: ParseResult,
    partial: bool,
    resolve: PlaceResolver | None,
) -> Outcome:
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
        session.rollback()
        raise BatchRejected(rejected, len(parsed.events) + len(parsed.errors))
    payload.accepted, payload.duplicates, payload.rejected = report.accepted, report.duplicates, len(rejected)
    _count_unmapped(session, carrier.id, parsed.unmapped)
    enqueue_status_changes(session, report.changes)
    session.commit()
    notices = sorted(parsed.notices, key=lambda n: n.index)
    return Outcome(
        report.accepted, report.duplicates, rejected, parsed.ignored, parsed.unmapped, report, notices
    )


def _count_unmapped(session: Session, carrier_id: int, unmapped: dict[str, int]) -> None:
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
