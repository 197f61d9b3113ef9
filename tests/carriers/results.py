"""What every adapter's answer must be, whatever bytes it is given: PayloadError, or a well-formed
ParseResult (aware times, canonical statuses, plausible numbers, every event and error on an item)."""

from __future__ import annotations

from carriers.base import Adapter
from tracking.events import ParseResult, PayloadError
from tracking.statuses import SUBSTATUSES


def parse_or_refuse(adapter: Adapter, raw: bytes) -> ParseResult | None:
    """Parse ``raw`` as the adapter's usual content type: None if refused (PayloadError), else the result,
    checked to be well formed; any other exception fails the test."""
    try:
        result = adapter.parse(raw, adapter.content_types[0], "fuzz")
    except PayloadError:
        return None
    assert isinstance(result, ParseResult)
    assert len(result.events) == len(result.indexes)
    for event in result.events:
        assert event.occurred_at.tzinfo is not None and event.occurred_at.utcoffset() is not None
        assert event.substatus in SUBSTATUSES[event.status]
        assert 5 <= len(event.tracking_number) <= 40
        assert event.occurred_at_utc.year >= 1999
    assert all(index >= 0 for index in result.indexes)
    assert all(error.index >= 0 and error.error for error in result.errors)
    assert all(isinstance(code, str) and count > 0 for code, count in result.unmapped.items())
    return result
