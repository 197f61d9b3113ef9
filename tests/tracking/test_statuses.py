"""tracking.statuses: the canonical taxonomy and the one way a status and substatus pair is checked."""

from __future__ import annotations

import pytest

from tracking.statuses import PROGRESS, SUBSTATUSES, TERMINAL, Status, UnknownStatus, parse_status


def test_every_status_has_substatuses_and_other_among_them() -> None:
    assert set(SUBSTATUSES) == set(Status)
    for status, substatuses in SUBSTATUSES.items():
        assert "other" in substatuses, status
        assert len(set(substatuses)) == len(substatuses), status


def test_every_status_has_a_progress_and_delivered_is_the_furthest_but_expired() -> None:
    assert set(PROGRESS) == set(Status)
    assert PROGRESS[Status.PENDING] < PROGRESS[Status.IN_TRANSIT] < PROGRESS[Status.DELIVERED]
    assert max(PROGRESS, key=PROGRESS.__getitem__) is Status.EXPIRED


def test_only_delivered_and_expired_are_terminal() -> None:
    assert frozenset({Status.DELIVERED, Status.EXPIRED}) == TERMINAL


def test_a_status_is_its_string_value() -> None:
    assert Status.IN_TRANSIT == "in_transit"
    assert Status("out_for_delivery") is Status.OUT_FOR_DELIVERY


def test_a_pair_is_parsed_to_the_status_and_its_substatus() -> None:
    assert parse_status("in_transit", "customs_processing") == (Status.IN_TRANSIT, "customs_processing")


@pytest.mark.parametrize("substatus", [None, ""])
def test_a_missing_substatus_defaults_to_other(substatus: str | None) -> None:
    assert parse_status("delivered", substatus) == (Status.DELIVERED, "other")


def test_a_substatus_may_be_prefixed_with_its_own_status() -> None:
    assert parse_status("exception", "exception/customs_held") == (Status.EXCEPTION, "customs_held")


def test_a_substatus_prefixed_with_another_status_is_refused() -> None:
    with pytest.raises(UnknownStatus, match="does not belong to status 'exception'"):
        parse_status("exception", "delivered/recipient")


def test_an_unknown_status_is_refused_with_the_list_of_statuses() -> None:
    with pytest.raises(UnknownStatus, match="unknown status 'shipped'; expected one of: pending, "):
        parse_status("shipped")


def test_a_substatus_of_another_status_is_refused_with_the_statuses_own_list() -> None:
    with pytest.raises(UnknownStatus) as caught:
        parse_status("out_for_delivery", "customs_processing")
    assert str(caught.value) == (
        "unknown substatus 'customs_processing' for status 'out_for_delivery'; "
        "expected one of: courier, other"
    )


def test_an_unknown_status_error_is_a_value_error() -> None:
    assert issubclass(UnknownStatus, ValueError)
