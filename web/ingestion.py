"""The one path every carrier payload takes, whatever door it came in by (push, pull, file import).

Parse with the carrier's adapter here (tracking does not import carriers), then store the raw payload
and the events through tracking.payloads.store_payload, inside the door's unit of work
(web.db.commit_unit): this module neither commits nor retries; the door does both. By default a batch
is all-or-nothing: one invalid item rejects the whole batch with a per-item error list and the door
rolls back, so nothing is written. With ``partial=True`` the valid items are stored (still atomically,
in the door's one transaction) and the invalid ones are listed as rejected. Items the carrier answered
for without events (notices, e.g. a Russian Post "no data for that number") are neither: they are
counted as ignored, named in the answer, and never reject the batch. An event whose time is out of
tracking.plausibility's window (from 2010 to a day after now) is an invalid item like any other.

A pushed payload must arrive in a media type of its carrier's format (``check_content_type``): canonical
JSON as ``application/json``, Russian Post SOAP as XML, CSV as ``text/csv``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from carriers import ADAPTERS
from tracking import models
from tracking.events import ParseResult, PayloadError
from tracking.ingest import PlaceResolver
from tracking.payloads import BatchRejected, Outcome, check_batch, store_payload
from tracking.plausibility import screen_event_times
from tracking.types import utcnow

__all__ = [
    "BatchRejected",
    "Outcome",
    "PayloadUnreadable",
    "UnsupportedContentType",
    "accept_payload",
    "check_content_type",
    "parse_payload",
]


class PayloadUnreadable(Exception):
    """The payload cannot be read at all (wrong format, not JSON/XML/CSV)."""


class UnsupportedContentType(Exception):
    """The payload's media type is not one the carrier's format arrives in; ``expected`` lists those."""

    def __init__(self, carrier: str, fmt: str, given: str, expected: tuple[str, ...]) -> None:
        shown = given or "no Content-Type"
        super().__init__(
            f"carrier {carrier!r} sends the {fmt} format, which arrives as {' or '.join(expected)}; "
            f"this request has {shown}"
        )
        self.expected = expected


def check_content_type(carrier: models.Carrier, content_type: str | None) -> None:
    """Raise UnsupportedContentType unless ``content_type`` (parameters aside) is one of the carrier's
    format's media types (``Adapter.content_types``); a format without an adapter is left to parse."""
    adapter = ADAPTERS.get(carrier.format)
    if adapter is None:
        return
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media not in adapter.content_types:
        raise UnsupportedContentType(carrier.code, carrier.format, media, adapter.content_types)


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
    now: datetime | None = None,
) -> Outcome:
    """Parse, validate and store one payload, as (part of) the caller's unit of work; flushes only.

    Call it inside ``web.db.commit_unit``: the door commits, and on a collision with a concurrent writer
    runs it again. PayloadUnreadable is raised before anything is written; BatchRejected maybe after
    some was flushed, which the door's rollback undoes.
    """
    parsed = screen_event_times(parse_payload(carrier, raw, content_type), now or utcnow())
    if len(parsed.events) > max_events:
        raise PayloadUnreadable(f"the payload holds {len(parsed.events)} events; the limit is {max_events}")
    check_batch(parsed, partial)
    return store_payload(session, carrier, raw, content_type, source, parsed, partial, resolve)
