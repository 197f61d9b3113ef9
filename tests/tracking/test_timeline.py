"""Status derivation by event time (tracking.timeline)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from tracking.statuses import SUBSTATUSES, Status
from tracking.timeline import PENDING, StatusState, apply, derive

T0 = datetime(2026, 10, 1, tzinfo=UTC)

states = st.builds(
    lambda status, sub_index, minutes: StatusState(
        status, SUBSTATUSES[status][sub_index % len(SUBSTATUSES[status])], T0 + timedelta(minutes=minutes)
    ),
    st.sampled_from([s for s in Status if s is not Status.PENDING]),
    st.integers(0, 20),
    st.integers(0, 60 * 24 * 30),
)


def at(days: int) -> datetime:
    return T0 + timedelta(days=days)


def test_no_events_is_pending():
    assert derive([]) == PENDING


def test_newest_event_wins():
    state = derive(
        [
            StatusState(Status.IN_TRANSIT, "departed", at(1)),
            StatusState(Status.OUT_FOR_DELIVERY, "courier", at(5)),
        ]
    )
    assert state.status is Status.OUT_FOR_DELIVERY


def test_late_old_scan_does_not_override_newer_one():
    current = StatusState(Status.OUT_FOR_DELIVERY, "courier", at(5))
    assert apply(current, [StatusState(Status.IN_TRANSIT, "arrived", at(2))]) == current


def test_late_old_scan_does_not_undo_delivered():
    delivered = StatusState(Status.DELIVERED, "recipient", at(9))
    assert apply(delivered, [StatusState(Status.IN_TRANSIT, "customs_processing", at(4))]) == delivered


def test_later_stamped_scan_does_not_undo_delivered_either():
    delivered = StatusState(Status.DELIVERED, "recipient", at(9))
    assert apply(delivered, [StatusState(Status.IN_TRANSIT, "in_sorting", at(10))]) == delivered


def test_late_label_never_hides_a_moving_parcel():
    moving = StatusState(Status.IN_TRANSIT, "departed", at(3))
    assert apply(moving, [StatusState(Status.INFO_RECEIVED, "label_created", at(4))]) == moving


def test_same_minute_tie_goes_to_the_further_step():
    state = derive(
        [
            StatusState(Status.OUT_FOR_DELIVERY, "courier", at(2)),
            StatusState(Status.IN_TRANSIT, "arrived", at(2)),
        ]
    )
    assert state.status is Status.OUT_FOR_DELIVERY


@given(st.lists(states, max_size=12), st.randoms())
def test_arrival_order_never_changes_the_status(events, rnd):
    shuffled = list(events)
    rnd.shuffle(shuffled)
    one_by_one = PENDING
    for event in shuffled:
        one_by_one = apply(one_by_one, [event])
    assert one_by_one == derive(sorted(events, key=lambda e: e.at))


@given(st.lists(states, min_size=1, max_size=12))
def test_delivered_anywhere_means_delivered(events):
    if any(e.status is Status.DELIVERED for e in events):
        assert derive(events).status is Status.DELIVERED
