"""The one path every carrier payload takes, whatever door it came in by (push, pull, file import).

Parse with the carrier's adapter here (tracking does not import carriers), then store the raw payload
and the events through tracking.payloads.store_payload, inside the door's unit of work
(web.db.commit_unit): this module neither commits nor retries; the door does both. By default a batch
is all-or-nothing: one invalid item rejects the whole batch with a per-item error list and the door
rolls back, so nothing is written. With ``partial=True`` the valid items are stored (still atomically,
in the door's one transaction) and the invalid ones are listed as rejected. Items the carrier answered
for without events (notices, e.g. a Russian Post "no data for that number") are neither: they are
counted as ignored, named in the answer, and never reject the batch.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from carriers import ADAPTERS
from tracking import models
from tracking.events import ParseResult, PayloadError
from tracking.ingest import PlaceResolver
from tracking.payloads import BatchRejected, Outcome, check_batch, store_payload

__all__ = ["BatchRejected", "Outcome", "PayloadUnreadable", "accept_payload", "parse_payload"]


class PayloadUnreadable(Exception):
    """The payload cannot be read at all (wrong format, not JSON/XML/CSV)."""


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
    """Parse, validate and store one payload, as (part of) the caller's unit of work; flushes only.

    Call it inside ``web.db.commit_unit``: the door commits, and on a collision with a concurrent writer
    runs it again. PayloadUnreadable is raised before anything is written; BatchRejected maybe after
    some was flushed, which the door's rollback undoes.
    """
    parsed = parse_payload(carrier, raw, content_type)
    if len(parsed.events) > max_events:
        raise PayloadUnreadable(f"the payload holds {len(parsed.events)} events; the limit is {max_events}")
    check_batch(parsed, partial)
    return store_payload(session, carrier, raw, content_type, source, parsed, partial, resolve)
