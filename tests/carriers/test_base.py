"""add_or_reject: how the CDEK and Russian Post adapters turn one read item into an event or an error."""

from __future__ import annotations

from datetime import UTC, datetime

from carriers.base import ItemInvalid, add_or_reject
from tracking.events import ItemError, ParseResult, ScanEvent
from tracking.statuses import Status

EVENT = ScanEvent("RA123456789RU", Status.IN_TRANSIT, "other", datetime(2024, 5, 1, tzinfo=UTC), "test")


def invalid() -> tuple[ScanEvent, str | None]:
    raise ItemInvalid("OperDate", "OperDate is not a time")


def test_an_item_read_adds_its_event_and_counts_an_unmapped_code() -> None:
    result = ParseResult()
    add_or_reject(result, 3, lambda: (EVENT, "99.1"))
    add_or_reject(result, 4, lambda: (EVENT, None))
    assert (result.events, result.indexes, result.errors) == ([EVENT, EVENT], [3, 4], [])
    assert result.unmapped == {"99.1": 1}


def test_an_invalid_item_is_rejected_whole_or_in_the_part_named() -> None:
    result = ParseResult()
    add_or_reject(result, 0, invalid)
    add_or_reject(result, 1, invalid, "operation 2", "Operation[2]")
    assert result.events == [] and result.unmapped == {}
    assert result.errors == [
        ItemError(0, "OperDate is not a time", "OperDate"),
        ItemError(1, "operation 2: OperDate is not a time", "Operation[2].OperDate"),
    ]
