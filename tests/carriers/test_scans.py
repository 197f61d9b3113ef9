"""Properties of carriers.scans, the "one tracking, a list of scans" walk the JSON adapters share.

Trackings are arbitrary JSON; each scan tells the stand-in reader what to make of it (an event with a
known or unknown code, or ItemInvalid naming a field), so the expected result can be worked out
beside the helper and compared with what it built.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime
from typing import Any, NamedTuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carriers.jsonfeed import ItemInvalid, tracking_number
from carriers.scans import ScanReader, TrackingShape, parse_tracking, parse_trackings
from tracking.events import ItemError, PayloadError, ScanEvent
from tracking.statuses import Status

SHAPE = TrackingShape(number="no", scans="scans", noun="parcel")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=5,
)
# What the reader makes of one scan: ["event", code, known] or ["invalid", field].
scans = st.one_of(
    st.tuples(st.just("event"), st.none() | st.sampled_from(["A1", "B2", "C3"]), st.booleans()),
    st.tuples(st.just("invalid"), st.sampled_from(["", "time", "code"])),
).map(list)
numbers = st.sampled_from(["ab-1234 5678cn", "SF1234567890", "RR123456785RU"]) | json_values
trackings = st.fixed_dictionaries(
    {},
    optional={
        "no": numbers,
        "scans": st.lists(scans, max_size=5) | json_values.filter(lambda v: not isinstance(v, list)),
        "extra": json_values,
    },
)


def reader_for(tracking: dict[str, Any], number: str) -> ScanReader:
    """A stand-in for an adapter's reader: the scan itself says what becomes of it."""

    def read(scan: Any) -> tuple[ScanEvent, bool]:
        if scan[0] == "invalid":
            raise ItemInvalid(scan[1], f"bad {scan[1] or 'scan'}")
        moment = datetime(2024, 5, 1, tzinfo=UTC)
        event = ScanEvent(number, Status.IN_TRANSIT, "other", moment, "test", raw_code=scan[1])
        return event, scan[2]

    return read


class Expected(NamedTuple):
    indexes: list[int]
    errors: list[ItemError]
    unmapped: Counter[str]
    ignored: int
    whole_tracking_invalid: bool = False


def expected(tracking: Any, index: int | None) -> Expected:
    """What the helpers should make of one tracking, worked out by hand.

    ``index`` None: the tracking is the whole answer and each scan is its own item.
    """
    item = 0 if index is None else index
    if not isinstance(tracking, dict):
        return Expected([], [ItemError(item, "each parcel must be a JSON object", None)], Counter(), 0, True)
    try:
        tracking_number(tracking.get("no"), "no")
    except ItemInvalid as exc:
        return Expected([], [ItemError(item, str(exc), "no")], Counter(), 0, True)
    found = tracking.get("scans")
    if found is not None and not isinstance(found, list):
        return Expected([], [ItemError(item, "scans must be an array", "scans")], Counter(), 0, True)
    if not found:
        return Expected([], [], Counter(), 1)
    indexes: list[int] = []
    errors: list[ItemError] = []
    unmapped: Counter[str] = Counter()
    for position, scan in enumerate(found):
        at = position if index is None else index
        if scan[0] == "event":
            indexes.append(at)
            if not scan[2] and scan[1]:
                unmapped[scan[1]] += 1
        elif index is None:
            errors.append(ItemError(at, f"bad {scan[1] or 'scan'}", scan[1] or None))
        else:
            where = f"scans[{position}]"
            field = f"{where}.{scan[1]}" if scan[1] else where
            errors.append(ItemError(at, f"{where}: bad {scan[1] or 'scan'}", field))
    return Expected(indexes, errors, unmapped, 0)


def roundtrip(value: Any) -> Any:
    """The value as a carrier's JSON would deliver it (tuples become arrays)."""
    return json.loads(json.dumps(value))


@given(st.lists(trackings | json_values, max_size=5))
def test_each_listed_tracking_is_one_item_with_its_scans_errors_inside_it(listed: list[Any]) -> None:
    listed = roundtrip(listed)
    result = parse_trackings(listed, SHAPE, reader_for)
    each = [expected(tracking, index) for index, tracking in enumerate(listed)]
    assert result.indexes == [i for one in each for i in one.indexes]
    assert result.errors == [error for one in each for error in one.errors]
    assert result.unmapped == sum((one.unmapped for one in each), Counter[str]())
    assert result.ignored == sum(one.ignored for one in each)
    assert len(result.events) == len(result.indexes)


@given(trackings)
def test_each_scan_of_a_lone_tracking_is_its_own_item(tracking: dict[str, Any]) -> None:
    tracking = roundtrip(tracking)
    want = expected(tracking, None)
    if want.whole_tracking_invalid:
        with pytest.raises(PayloadError, match=re.escape(want.errors[0].error)):
            parse_tracking(tracking, SHAPE, reader_for)
        return
    result = parse_tracking(tracking, SHAPE, reader_for)
    assert (result.indexes, result.errors, result.unmapped, result.ignored) == want[:4]


def test_an_answer_without_a_tracking_is_only_acknowledged() -> None:
    result = parse_tracking(None, SHAPE, reader_for)
    assert (result.events, result.errors, result.ignored) == ([], [], 1)


def test_events_carry_the_normalised_number() -> None:
    tracking = {"no": "ab-1234 5678cn", "scans": [["event", "A1", True]]}
    result = parse_tracking(tracking, SHAPE, reader_for)
    assert [e.tracking_number for e in result.events] == ["AB12345678CN"]
