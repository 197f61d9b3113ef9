"""tracking.ingest's locations (SQLite and PostgreSQL): stored per carrier, (0, 0) as no coordinate, out of
range refused per item, and every event's numbers in the one normal form, whatever the adapter did."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from tests.tracking.helpers import at, carrier, parcel_of, scan, store
from tracking import models
from tracking.events import Location, ScanEvent
from tracking.ingest import LOCATION_KEY_LENGTH, clean_event, ingest, location_key
from tracking.queries import public_parcel
from tracking.statuses import Status

HUB = Location(name="Atlantis Hub", country="RU", lat=-33.9, lon=151.2)


def places(session: Session) -> list[tuple[str, str | None, float | None, float | None]]:
    rows = session.execute(
        select(models.Location.key, models.Location.name, models.Location.lat, models.Location.lon).order_by(
            models.Location.id
        )
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_two_carriers_naming_one_place_get_a_row_each(session: Session) -> None:
    a, b = carrier(session, "carrier_a"), carrier(session, "carrier_b")
    store(session, scan("RX747628194CN", 1, location=HUB), ref=a)
    store(session, scan("LX299455986CN", 2, location=replace(HUB, lat=None, lon=None)), ref=b)
    rows = places(session)
    assert [(name, lat, lon) for _, name, lat, lon in rows] == [
        ("Atlantis Hub", -33.9, 151.2),
        ("Atlantis Hub", None, None),
    ]
    assert rows[0][0] == location_key(HUB, a) and rows[1][0].startswith(f"carrier:{b.id}|")
    view = public_parcel(session, "LX299455986CN")
    assert view is not None and (view.events[0].lat, view.events[0].lon) == (None, None)


def test_a_carrier_naming_a_place_again_reuses_its_row(session: Session) -> None:
    a = carrier(session, "carrier_a")
    store(session, scan("RX747628194CN", 1, location=HUB), ref=a)
    store(session, scan("LX299455986CN", 2, location=HUB), scan("RX747628194CN", 3, location=HUB), ref=a)
    assert len(places(session)) == 1


def test_the_fingerprint_does_not_depend_on_the_carrier(session: Session) -> None:
    a, b = carrier(session, "carrier_a"), carrier(session, "carrier_b")
    assert store(session, scan("RX747628194CN", 1, location=HUB), ref=a).accepted == 1
    again = store(session, scan("RX747628194CN", 1, location=replace(HUB, lat=None, lon=None)), ref=b)
    assert (again.accepted, again.duplicates) == (0, 1)


def test_zero_zero_and_a_lone_coordinate_are_stored_as_none(session: Session) -> None:
    store(
        session,
        scan("RX747628194CN", 1, location=replace(HUB, lat=0.0, lon=0.0)),
        scan("RX747628194CN", 2, location=replace(HUB, name="Lone", lat=12.0, lon=None), substatus="arrived"),
    )
    assert [(name, lat, lon) for _, name, lat, lon in places(session)] == [
        ("Atlantis Hub", None, None),
        ("Lone", None, None),
    ]


def test_zero_zero_stored_before_is_shown_as_none(session: Session) -> None:
    store(session, scan("RX747628194CN", 1, location=HUB))
    session.execute(update(models.Location).values(lat=0.0, lon=0.0))
    view = public_parcel(session, "RX747628194CN")
    assert view is not None and (view.events[0].lat, view.events[0].lon) == (None, None)


@pytest.mark.parametrize(
    ("lat", "lon", "field"),
    [
        (90.01, 0.0, "location.lat"),
        (-200.0, 0.0, "location.lat"),
        (0.0, 180.01, "location.lon"),
        (float("nan"), 1.0, "location.lat"),
        (1.0, float("inf"), "location.lon"),
    ],
)
def test_coordinates_out_of_range_are_refused_per_item_whatever_the_adapter(
    session: Session, lat: float, lon: float, field: str
) -> None:
    report = store(
        session, scan("RX747628194CN", 1, location=replace(HUB, lat=lat, lon=lon)), scan("LX299455986CN", 2)
    )
    assert report.accepted == 1
    assert [(e.index, e.field) for e in report.rejected] == [(0, field)]
    assert field in report.rejected[0].error


def test_numbers_an_adapter_left_unnormalized_are_stored_in_the_normal_form(session: Session) -> None:
    event = scan("rх 747-628194сn", 1, linked_numbers=("lp 0012345678９０１２",))
    store(session, event)
    assert parcel_of(session, "RX747628194CN").id == parcel_of(session, "LP00123456789012").id
    stored = session.scalars(select(models.ScanEvent.tracking_number)).all()
    assert stored == ["RX747628194CN"]


def test_a_clean_event_is_returned_as_it_is() -> None:
    event = scan("RX747628194CN", 1, location=HUB)
    assert clean_event(event) is event


def test_a_very_long_place_name_still_has_a_key_that_fits(session: Session) -> None:
    ref = carrier(session, "carrier_a")
    long = Location(name="ﷺ" * 200, country="RU", postcode="1" * 20, lat=1.0, lon=2.0)
    key = location_key(long, ref)
    assert len(key) <= LOCATION_KEY_LENGTH and key.startswith(f"carrier:{ref.id}|#")
    assert store(session, scan("RX747628194CN", 1, location=long), ref=ref).accepted == 1
    assert location_key(replace(long, name="ﷺ" * 199), ref) != key


def test_a_resolved_place_keeps_the_resolvers_coordinates(session: Session) -> None:
    def resolve(location: Location) -> Location:
        return (
            replace(location, place_id="ru_kazan", lat=55.79, lon=49.12)
            if location.name == "Kazan"
            else location
        )

    ref = carrier(session, "carrier_a")
    event = ScanEvent(
        "RX747628194CN", Status.IN_TRANSIT, "arrived", at(1), "carrier_a", replace(HUB, name="Kazan")
    )
    ingest(session, ref, [event], resolve=resolve, now=at(9000))
    view = public_parcel(session, "RX747628194CN")
    assert view is not None
    assert (view.events[0].place_id, view.events[0].lat, view.events[0].lon) == ("ru_kazan", 55.79, 49.12)


def test_rows_keyed_the_old_way_are_left_alone(session: Session) -> None:
    ref = carrier(session, "carrier_a")
    old = HUB.key()
    session.execute(
        insert(models.Location).values(key=old, name="Atlantis Hub", country="RU", lat=5.0, lon=6.0)
    )
    store(session, scan("RX747628194CN", 1, location=HUB), ref=ref)
    assert [(key, lat) for key, _, lat, _ in places(session)] == [(old, 5.0), (location_key(HUB, ref), -33.9)]
