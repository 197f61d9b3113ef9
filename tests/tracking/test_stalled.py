"""tracking.stalled on a real database: parcels silent for longer than usual are flagged, once, and
their merchant told; a parcel that moves again is unflagged."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.tracking.helpers import MOSCOW, at, merchant, parcel_of, scan, store
from tracking import models
from tracking.stalled import default_threshold, flag_stalled
from tracking.statuses import Status
from tracking.webhooks import create_subscription

DAY = 24


@pytest.mark.parametrize(
    ("status", "substatus", "days"),
    [
        ("in_transit", "departed", 7),
        ("in_transit", "customs_processing", 10),
        ("in_transit", "line_haul", 10),
        ("exception", "customs_held", 10),
        ("out_for_delivery", "courier", 3),
        ("available_for_pickup", "post_office", 15),
        ("pending", "registered", 5),
        ("somewhere_new", "other", 7),
    ],
)
def test_the_default_threshold_is_a_table_by_status_and_substatus(
    status: str, substatus: str, days: int
) -> None:
    assert default_threshold("ru_moscow", status, substatus) == timedelta(days=days)


def test_a_parcel_silent_for_longer_than_its_threshold_is_flagged_once(session: Session) -> None:
    store(session, scan("RX747628194CN", 0), scan("LX299455986CN", 6 * DAY))
    quiet, recent = parcel_of(session, "RX747628194CN"), parcel_of(session, "LX299455986CN")
    now = at(7 * DAY + 1)
    assert flag_stalled(session, now) == [quiet.id]
    assert parcel_of(session, "RX747628194CN").stalled_at == now
    assert parcel_of(session, "LX299455986CN").stalled_at is None
    assert flag_stalled(session, at(7 * DAY + 2)) == []  # still stalled, not flagged again
    assert recent.stalled_at is None


def test_a_delivered_parcel_is_never_stalled(session: Session) -> None:
    store(session, scan("RX747628194CN", 0, Status.DELIVERED, "recipient", MOSCOW))
    assert flag_stalled(session, at(100 * DAY)) == []


def test_a_parcel_waiting_for_its_recipient_to_pay_duties_is_not_stalled(session: Session) -> None:
    store(
        session,
        scan("RX747628194CN", 0, Status.EXCEPTION, "customs_duty_due", MOSCOW),
        scan("LX299455986CN", 0, Status.EXCEPTION, "customs_held", MOSCOW),
    )
    assert flag_stalled(session, at(40 * DAY)) == [parcel_of(session, "LX299455986CN").id]
    assert parcel_of(session, "RX747628194CN").stalled_at is None


def test_a_stalled_parcel_that_comes_to_owe_duties_is_unflagged(session: Session) -> None:
    store(session, scan("RX747628194CN", 0))
    assert flag_stalled(session, at(8 * DAY)) == [parcel_of(session, "RX747628194CN").id]
    store(session, scan("RX747628194CN", 1 * DAY, Status.EXCEPTION, "customs_duty_due", MOSCOW))
    assert flag_stalled(session, at(30 * DAY)) == []
    assert parcel_of(session, "RX747628194CN").stalled_at is None  # it waits for the shopper now


def test_a_parcel_that_moves_again_is_unflagged(session: Session) -> None:
    store(session, scan("RX747628194CN", 0))
    flag_stalled(session, at(8 * DAY))
    store(session, scan("RX747628194CN", 8 * DAY, substatus="arrived", location=MOSCOW))
    assert flag_stalled(session, at(8 * DAY + 1)) == []
    assert parcel_of(session, "RX747628194CN").stalled_at is None


def test_a_registered_parcel_without_scans_counts_its_silence_from_its_ship_time(session: Session) -> None:
    parcel = models.Parcel(status="pending", substatus="registered", created_at=at(0), ship_at=at(3 * DAY))
    session.add(parcel)
    session.flush()
    assert flag_stalled(session, at(7 * DAY)) == []  # 4 days since shipping, 5 allowed
    assert flag_stalled(session, at(8 * DAY + 1)) == [parcel.id]


def test_the_threshold_is_asked_once_per_place_status_and_substatus(session: Session) -> None:
    store(session, *(scan(f"RX{k:08d}0CN", k) for k in range(5)))
    store(session, scan("LX299455986CN", 0, substatus="arrived", location=MOSCOW))
    asked: list[tuple[str | None, str, str]] = []

    def threshold(place: str | None, status: str, substatus: str) -> timedelta:
        asked.append((place, status, substatus))
        return timedelta(hours=1) if place == "ru_moscow" else timedelta(days=365)

    flagged = flag_stalled(session, at(10), threshold)
    assert flagged == [parcel_of(session, "LX299455986CN").id]
    assert sorted(asked) == [
        ("cn_shenzhen", "in_transit", "departed"),
        ("ru_moscow", "in_transit", "arrived"),
    ]


def test_a_merchant_subscribed_to_delays_is_told_how_long_the_parcel_has_been_silent(
    session: Session,
) -> None:
    store(session, scan("RX747628194CN", 0), scan("LX299455986CN", 0))
    owner = merchant(session)
    parcel_of(session, "RX747628194CN").merchant_id = owner
    subscription = create_subscription(session, owner, "https://shop.example.com/hooks", ["delayed"])
    flag_stalled(session, at(8 * DAY))
    message = session.scalars(select(models.OutboxMessage)).one()
    assert (message.subscription_id, message.event, message.state) == (subscription.id, "delayed", "pending")
    body = json.loads(message.payload)
    assert body["parcel"]["identifiers"] == ["RX747628194CN"]
    assert body["parcel"]["delayed"] is True
    assert body["delay"] == {
        "silent_since": at(0).isoformat(),
        "usual_hours": 168.0,
        "place_id": "cn_shenzhen",
    }
