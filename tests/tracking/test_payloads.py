"""tracking.payloads.store_payload on a real database (SQLite and PostgreSQL): it flushes, never commits,
so what it stored is the caller's to commit or roll back; a refused atomic batch raises BatchRejected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracking import models
from tracking.accounts import ensure_carrier
from tracking.events import Location, ParseResult, ScanEvent
from tracking.payloads import BatchRejected, store_payload
from tracking.statuses import Status
from tracking.types import utcnow

RAW = b'{"events": []}'
SHANGHAI = Location("Shanghai", "CN")
NUMBER = "BK00000000001CN"


@pytest.fixture
def carrier(session: Session) -> models.Carrier:
    row = ensure_carrier(session, "bulk_post", "canonical")
    session.commit()
    return row


def parsed(*moments: datetime, unmapped: dict[str, int] | None = None) -> ParseResult:
    result = ParseResult(unmapped=dict(unmapped or {}))
    for index, at in enumerate(moments):
        event = ScanEvent(NUMBER, Status.IN_TRANSIT, "departed", at, "bulk_post", location=SHANGHAI)
        result.add(event, index)
    return result


def counts(session: Session) -> tuple[int, ...]:
    """Raw payloads, events and unmapped codes stored (committed, once the read is rolled back)."""
    out = tuple(
        int(session.scalar(select(func.count()).select_from(table)) or 0)
        for table in (models.RawPayload, models.ScanEvent, models.UnmappedCode)
    )
    session.rollback()
    return out


def test_a_stored_payload_is_the_callers_to_commit_or_roll_back(session, carrier):
    t0 = datetime(2026, 10, 1, 8, tzinfo=UTC)
    payload = parsed(t0, t0 + timedelta(hours=1), unmapped={"X1": 2})
    outcome = store_payload(session, carrier, RAW, "application/json", "push", payload, False, None)
    assert (outcome.accepted, outcome.duplicates, outcome.rejected) == (2, 0, [])
    assert outcome.raw_payload_id is not None
    session.rollback()
    assert counts(session) == (0, 0, 0)

    store_payload(session, carrier, RAW, "application/json", "push", payload, False, None)
    session.commit()
    assert counts(session) == (1, 2, 1)


def test_an_atomic_batch_with_a_refused_item_raises_and_the_rollback_leaves_nothing(session, carrier):
    t0 = datetime(2026, 10, 1, 8, tzinfo=UTC)
    payload = parsed(t0, utcnow() + timedelta(days=3))  # the second one is too far in the future
    with pytest.raises(BatchRejected) as refused:
        store_payload(session, carrier, RAW, "application/json", "push", payload, False, None)
    assert [e.index for e in refused.value.errors] == [1] and refused.value.total == 2
    session.rollback()
    assert counts(session) == (0, 0, 0)

    partial = store_payload(session, carrier, RAW, "application/json", "push", payload, True, None)
    session.commit()
    assert (partial.accepted, [e.index for e in partial.rejected]) == (1, [1])
    assert counts(session) == (1, 1, 0)


def test_items_the_adapter_refused_reject_an_atomic_batch_before_anything_is_written(session, carrier):
    payload = parsed(datetime(2026, 10, 1, 8, tzinfo=UTC))
    payload.reject(1, "no tracking number", "tracking_number")
    with pytest.raises(BatchRejected):
        store_payload(session, carrier, RAW, "application/json", "push", payload, False, None)
    assert not session.new and counts(session) == (0, 0, 0)
