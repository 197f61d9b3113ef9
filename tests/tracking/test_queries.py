"""tracking.queries on a real database: the public view of a parcel, reached through any of its numbers."""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.tracking.helpers import CODE, MOSCOW, SHENZHEN, T0, at, carrier, parcel_of, scan, store
from tracking import models
from tracking.events import ScanEvent
from tracking.queries import PublicEvent, find_parcel_id, lookup_public_parcel, public_parcel
from tracking.statuses import Status

BEIJING, MOSCOW_TIME = timezone(timedelta(hours=8)), timezone(timedelta(hours=3))


@pytest.fixture
def journey(session: Session) -> int:
    """A parcel scanned in Shenzhen under its LP number, then in Moscow under its S10 number (each scan
    in its carrier's local time)."""
    label = ScanEvent(
        "LP00123456789012",
        Status.INFO_RECEIVED,
        "label_created",
        T0.astimezone(BEIJING),
        CODE,
        SHENZHEN,
        description="Order received",
        raw_code="ACCEPT",
    )
    arrived = ScanEvent(
        "RX747628194CN",
        Status.IN_TRANSIT,
        "arrived",
        at(50).astimezone(MOSCOW_TIME),
        CODE,
        MOSCOW,
        description="Прибыло",
    )
    store(session, label)
    store(session, scan("LP00123456789012", 10, linked_numbers=("RX747628194CN",)))
    store(session, arrived)
    parcel = parcel_of(session, "RX747628194CN")
    parcel.service, parcel.origin, parcel.destination = "premium_air", "cn_shenzhen", "ru_moscow"
    session.commit()
    return parcel.id


def test_a_number_finds_its_parcel_however_it_is_typed(session: Session, journey: int) -> None:
    assert find_parcel_id(session, "rx 747628194-cn") == journey
    assert find_parcel_id(session, "LP00123456789012") == journey
    assert find_parcel_id(session, "RR123456785CN") is None


def test_an_unknown_number_has_no_public_view(session: Session, journey: int) -> None:
    assert public_parcel(session, "RR123456785CN") is None


def test_the_view_shows_the_parcels_numbers_status_route_and_events_newest_first(
    session: Session, journey: int
) -> None:
    view = public_parcel(session, "rx747628194cn")
    assert view is not None
    assert (view.id, view.tracking_number) == (journey, "RX747628194CN")
    assert view.identifiers == ["LP00123456789012", "RX747628194CN"]
    assert (view.status, view.substatus, view.status_at, view.last_event_at) == (
        "in_transit",
        "arrived",
        at(50),
        at(50),
    )
    assert (view.service, view.origin, view.destination) == ("premium_air", "cn_shenzhen", "ru_moscow")
    assert [(e.substatus, e.number) for e in view.events] == [
        ("arrived", "RX747628194CN"),
        ("departed", "LP00123456789012"),
        ("label_created", "LP00123456789012"),
    ]


def test_each_event_is_shown_in_the_carriers_local_time_with_its_place(
    session: Session, journey: int
) -> None:
    view = public_parcel(session, "LP00123456789012")
    assert view is not None
    newest, _, oldest = view.events
    assert newest.occurred_at == at(50) and newest.occurred_at.utcoffset() == timedelta(hours=3)
    assert oldest.occurred_at.utcoffset() == timedelta(hours=8)
    assert oldest == PublicEvent(
        "info_received",
        "label_created",
        T0.astimezone(BEIJING),
        "Shenzhen",
        "CN",
        None,
        None,
        "cn_shenzhen",
        "Order received",
        "test_post",
        "ACCEPT",
        "LP00123456789012",
    )
    assert (newest.location_name, newest.place_id, newest.description) == ("Moscow", "ru_moscow", "Прибыло")


def test_every_number_of_a_parcel_shows_the_same_view_under_the_number_asked(
    session: Session, journey: int
) -> None:
    by_lp, by_s10 = public_parcel(session, "LP00123456789012"), public_parcel(session, "RX747628194CN")
    assert by_lp is not None and by_s10 is not None
    assert by_lp.tracking_number == "LP00123456789012"
    by_lp.tracking_number = by_s10.tracking_number
    assert by_lp == by_s10


def test_a_registered_parcel_without_scans_has_an_empty_timeline(session: Session) -> None:
    carrier(session)
    parcel = models.Parcel(status="pending", substatus="registered", service="standard_air")
    session.add(parcel)
    session.flush()
    session.add(models.Identifier(parcel_id=parcel.id, number="RA123456785RU"))
    session.commit()
    view = public_parcel(session, "RA123456785RU")
    assert view is not None
    assert (view.status, view.identifiers, view.events, view.status_at) == (
        "pending",
        ["RA123456785RU"],
        [],
        None,
    )


def test_the_view_sees_what_the_session_has_not_committed_yet(session: Session) -> None:
    store(session, scan("RX747628194CN", 0))
    view = public_parcel(session, "RX747628194CN")
    assert view is not None and len(view.events) == 1


def test_the_postgresql_lookup_answers_exactly_as_the_session_view(
    session: Session, engine: Engine, journey: int
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("lookup_public_parcel is the PostgreSQL lookup path")
    for number in ("RX747628194CN", "lp00123456789012", "RR123456785CN"):
        assert lookup_public_parcel(engine, number) == public_parcel(session, number)
