"""Properties of the JSON field readers the adapters share in carriers.jsonfeed."""

from __future__ import annotations

from datetime import UTC, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carriers.jsonfeed import ItemInvalid, capped_location, parse_iso, required_time

times = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=30),
    st.datetimes(timezones=st.none() | st.just(UTC) | st.just(timezone(timedelta(hours=8)))).map(
        lambda moment: moment.isoformat()
    ),
    st.sampled_from(["", "  ", "2024-05-01T10:00:00", "2024-05-01T10:00:00+03:00", "1970-01-01T00:00:00Z"]),
)


@given(times, st.none() | st.just(timezone(timedelta(hours=8))))
def test_required_time_is_parse_iso_that_refuses_an_absent_time(value: Any, zone: timezone | None) -> None:
    try:
        expected = parse_iso(value, "at", zone)
    except ItemInvalid as exc:
        with pytest.raises(ItemInvalid, match=r"^at ") as caught:
            required_time(value, "at", zone)
        assert (caught.value.field, str(caught.value)) == ("at", str(exc))
        return
    if expected is None:
        with pytest.raises(ItemInvalid, match=r"^at is required$"):
            required_time(value, "at", zone)
        return
    moment = required_time(value, "at", zone)
    assert moment == expected and moment.utcoffset() is not None


@given(st.none() | st.text(min_size=1, max_size=300), st.none() | st.text(min_size=1, max_size=40))
def test_capped_location_keeps_the_start_of_long_free_text(name: str | None, postcode: str | None) -> None:
    location = capped_location(name, "CN", postcode)
    assert location.name == (name[:200] if name else None)
    assert location.postcode == (postcode[:20] if postcode else None)
    assert location.country == "CN"
