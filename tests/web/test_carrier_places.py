"""One carrier's places never rewrite another's (the probe: carrier A posted Kazan at lat -33.9, lon 151.2,
and carrier B's later Kazan scan showed A's coordinates, because locations were shared rows, first writer
wins).

Now a carrier's wording and coordinates belong to its own events (locations are stored per carrier), a
place the network knows shows the network's coordinates whatever the carrier sent, (0, 0) is no
coordinate, and coordinates out of range are a per-item error naming the field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from routing.gazetteer import default_gazetteer
from tests.conftest import bearer
from tests.web.support import ago

PROBE = (-33.9, 151.2)  # Sydney's coordinates, sent as Kazan's


def kazan() -> tuple[float, float]:
    match = default_gazetteer().resolve("Kazan", "RU", None)
    assert match is not None and match.place_id == "ru_kazan"
    return match.lat, match.lon


def scan(number: str, hours: float, location: dict[str, Any], substatus: str = "arrived") -> dict[str, Any]:
    return {
        "tracking_number": number,
        "status": "in_transit",
        "substatus": substatus,
        "occurred_at": ago(hours=hours).isoformat(),
        "location": location,
    }


@pytest.fixture
def push(client: FlaskClient, make_key: Callable[..., str]) -> Callable[..., dict[str, Any]]:
    """``push("carrier_a", event, ...)``: post canonical events as that carrier; the answer's JSON."""
    keys: dict[str, str] = {}

    def _push(carrier: str, *events: dict[str, Any], status: int = 200) -> dict[str, Any]:
        if carrier not in keys:
            keys[carrier] = make_key("carrier", carrier, "canonical")
        resp = client.post(
            f"/api/v1/carriers/{carrier}/events", json={"events": list(events)}, headers=bearer(keys[carrier])
        )
        assert resp.status_code == status, resp.get_json()
        body: dict[str, Any] = resp.get_json()
        return body

    return _push


def location(client: FlaskClient, number: str) -> list[dict[str, Any] | None]:
    """The locations of the parcel's events, oldest first, as the public API shows them."""
    view = client.get(f"/api/v1/parcels/{number}")
    assert view.status_code == 200, view.get_json()
    return [e["location"] for e in reversed(view.get_json()["events"])]


def test_carrier_b_never_shows_carrier_a_coordinates_for_kazan(
    client: FlaskClient, push: Callable[..., Any]
) -> None:
    lat, lon = PROBE
    push("carrier_a", scan("RX747628194CN", 5, {"name": "Kazan", "country": "RU", "lat": lat, "lon": lon}))
    push("carrier_b", scan("LX299455986CN", 4, {"name": "Kazan", "country": "RU"}))
    theirs = location(client, "LX299455986CN")
    assert theirs == [{"name": "Kazan", "country": "RU", "lat": kazan()[0], "lon": kazan()[1]}]
    # A network place is where the network says it is, for A's own scan too.
    assert location(client, "RX747628194CN") == theirs


def test_a_carrier_that_comes_later_with_wrong_coordinates_changes_nothing_already_shown(
    client: FlaskClient, push: Callable[..., Any]
) -> None:
    push("carrier_b", scan("LX299455986CN", 5, {"name": "Kazan", "country": "RU"}))
    lat, lon = PROBE
    push("carrier_a", scan("RX747628194CN", 4, {"name": "Kazan", "country": "RU", "lat": lat, "lon": lon}))
    for number in ("LX299455986CN", "RX747628194CN"):
        (place,) = location(client, number)
        assert place is not None and (place["lat"], place["lon"]) == kazan()


def test_each_carrier_keeps_its_own_wording_of_a_shared_place(
    client: FlaskClient, push: Callable[..., Any]
) -> None:
    push("carrier_a", scan("RX747628194CN", 5, {"name": "Kazan", "country": "RU"}))
    push("carrier_b", scan("LX299455986CN", 4, {"name": "Казань", "country": "RU"}))
    push("carrier_b", scan("RX747628194CN", 3, {"name": "Казань", "country": "RU"}, "departed"))
    names = [place["name"] for place in location(client, "RX747628194CN") if place]
    assert names == ["Kazan", "Казань"]
    assert [p["name"] for p in location(client, "LX299455986CN") if p] == ["Казань"]


def test_an_unknown_place_shows_its_carriers_coordinates_on_that_carriers_events_only(
    client: FlaskClient, push: Callable[..., Any]
) -> None:
    hub = {"name": "Atlantis Hub", "country": "RU"}
    push("carrier_a", scan("RX747628194CN", 5, {**hub, "lat": -33.9, "lon": 151.2}))
    push("carrier_b", scan("LX299455986CN", 4, hub))
    push("carrier_c", scan("RD025500807SE", 3, {**hub, "lat": 10.25, "lon": 20.5}))
    assert location(client, "RX747628194CN") == [{**hub, "lat": -33.9, "lon": 151.2}]
    assert location(client, "LX299455986CN") == [{**hub, "lat": None, "lon": None}]
    assert location(client, "RD025500807SE") == [{**hub, "lat": 10.25, "lon": 20.5}]


def test_one_carrier_naming_one_place_at_two_points_shows_each_on_its_own_event(
    client: FlaskClient, push: Callable[..., Any]
) -> None:
    hub = {"name": "Atlantis Hub", "country": "RU"}
    push("carrier_a", scan("RX747628194CN", 5, {**hub, "lat": 1.5, "lon": 2.5}))
    push("carrier_a", scan("RX747628194CN", 4, {**hub, "lat": 3.5, "lon": 4.5}, "departed"))
    points = [(p["lat"], p["lon"]) for p in location(client, "RX747628194CN") if p]
    assert points == [(1.5, 2.5), (3.5, 4.5)]


def test_zero_zero_is_no_coordinate(client: FlaskClient, push: Callable[..., Any]) -> None:
    push("carrier_a", scan("RX747628194CN", 5, {"name": "Atlantis Hub", "country": "RU", "lat": 0, "lon": 0}))
    push(
        "carrier_a",
        scan("RX747628194CN", 4, {"name": "Kazan", "country": "RU", "lat": 0.0, "lon": 0.0}, "departed"),
    )
    hub, city = location(client, "RX747628194CN")
    assert hub == {"name": "Atlantis Hub", "country": "RU", "lat": None, "lon": None}
    assert city is not None and (city["lat"], city["lon"]) == kazan()


def test_a_point_on_the_equator_or_the_meridian_is_a_coordinate(
    client: FlaskClient, push: Callable[..., Any]
) -> None:
    push("carrier_a", scan("RX747628194CN", 5, {"name": "Atlantis Hub", "lat": 0.0, "lon": 9.5}))
    (place,) = location(client, "RX747628194CN")
    assert place is not None and (place["lat"], place["lon"]) == (0.0, 9.5)


@pytest.mark.parametrize(
    ("lat", "lon", "field"),
    [
        (90.5, 10.0, "location.lat"),
        (-91, 10.0, "location.lat"),
        (10.0, 180.5, "location.lon"),
        (10, -181, "location.lon"),
    ],
)
def test_coordinates_out_of_range_are_a_per_item_error_naming_the_field(
    push: Callable[..., Any], lat: float, lon: float, field: str
) -> None:
    bad = scan("RX747628194CN", 5, {"name": "Kazan", "country": "RU", "lat": lat, "lon": lon})
    good = scan("LX299455986CN", 4, {"name": "Kazan", "country": "RU"})
    body = push("carrier_a", bad, good, status=422)
    assert [(r["index"], r["field"]) for r in body["errors"]] == [(0, field)], body


def test_the_same_scan_from_two_carriers_is_still_one_event(
    client: FlaskClient, push: Callable[..., Any]
) -> None:
    same = scan("RX747628194CN", 5, {"name": "Kazan", "country": "RU", "lat": -33.9, "lon": 151.2})
    assert push("carrier_a", same)["accepted"] == 1
    again = push("carrier_b", {**same, "location": {"name": "Казань", "country": "RU"}})
    assert again["accepted"] == 0 and again["duplicates"] == 1
    assert len(location(client, "RX747628194CN")) == 1
