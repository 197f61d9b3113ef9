"""The route map on /track/{n} through HTTP (SQLite and PostgreSQL): the travelled line starts in China
even when the first carrier reports only a country and a second carrier (a linked number) reports places;
the network under the route is drawn light."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.web.support import parcel, push_events
from web.pages.map_svg import network, project

FIRST, SECOND = "LP00123456789012", "RX747628194CN"
ROUTE = ["cn_shenzhen", "cn_air_pvg", "ru_mmpo_sheremetyevo", "ru_asc_podolsk", "ru_moscow"]


def ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


def event(number: str, substatus: str, days: float, location: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "tracking_number": number,
        "status": "in_transit",
        "substatus": substatus,
        "occurred_at": ago(days),
        "location": location,
        **extra,
    }


@pytest.fixture
def carriers(client: FlaskClient, make_key: Callable[..., str]) -> Callable[..., None]:
    """``carriers(code, *events)``: push canonical events as carrier ``code``."""
    keys: dict[str, str] = {}

    def _push(code: str, *events: dict[str, Any]) -> None:
        push_events(client, keys.setdefault(code, make_key("carrier", code)), code, list(events))

    return _push


@pytest.fixture
def handed_over(carriers: Callable[..., None]) -> None:
    """A first-mile carrier that names only the country, then a Russian carrier under another number."""
    cn = {"country": "CN"}
    carriers(
        "first_mile",
        event(FIRST, "picked_up", 9, cn),
        event(FIRST, "export_cleared", 8, cn),
        event(FIRST, "line_haul", 7, cn, linked_numbers=[SECOND]),
    )
    carriers(
        "ru_carrier",
        event(SECOND, "arrived_destination_country", 5, {"name": "MMPO Sheremetyevo", "country": "RU"}),
    )


def travelled_path(html: str) -> list[tuple[float, float]]:
    svg = html.split("<svg", 1)[1].split("</svg>", 1)[0]
    (d,) = re.findall(
        r'<path d="([^"]+)" fill="none" stroke="#c2410c" stroke-width="[\d.]+" stroke-linejoin', svg
    )
    return [tuple(map(float, xy.split(","))) for xy in d[1:].split(" L")]  # type: ignore[misc]


def node_xy(node_id: str) -> tuple[float, float]:
    node = network()[node_id]
    return project(node["lat"], node["lon"])


@pytest.mark.parametrize("number", [FIRST, SECOND])
def test_the_travelled_line_starts_at_the_expected_routes_origin_in_china(client, app, handed_over, number):
    app.config["ETA_PROVIDER"] = lambda session, view: {
        "p10": datetime.now(UTC) + timedelta(days=2),
        "p90": datetime.now(UTC) + timedelta(days=6),
        "route": ROUTE,
    }
    html = client.get(f"/track/{number}?lang=en").get_data(as_text=True)
    path = travelled_path(html)
    assert path[0] == node_xy("cn_shenzhen") and path[-1] == node_xy("ru_mmpo_sheremetyevo")
    assert "Route of the parcel from Shenzhen." in html


def test_the_travelled_line_starts_at_the_registered_origin(client, shop, handed_over):
    resp = client.post("/api/v1/parcels", json=parcel(FIRST, origin="Guangzhou"), headers=shop)
    assert resp.status_code in (200, 201), resp.get_json()
    html = client.get(f"/track/{SECOND}?lang=zh").get_data(as_text=True)
    assert travelled_path(html)[0] == node_xy("cn_guangzhou")
    assert "广州" in html.split('id="map-desc">', 1)[1].split("</desc>", 1)[0]


def test_without_an_origin_or_a_route_no_place_in_china_is_made_up(client, handed_over):
    html = client.get(f"/track/{SECOND}?lang=en").get_data(as_text=True)
    assert "Route of the parcel from MMPO Sheremetyevo (Moscow)." in html
    assert "Shenzhen" not in html


def test_the_network_layer_is_drawn_light_under_the_route(client, handed_over):
    html = client.get(f"/track/{SECOND}?lang=en").get_data(as_text=True)
    layers = re.findall(r'<g class="network"[^>]*(?:stroke|fill)-opacity="([\d.]+)"', html)
    assert layers and all(float(opacity) <= 0.3 for opacity in layers)
