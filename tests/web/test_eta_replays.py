"""Replays: `silkway eta refresh --as-of T` learns from the window ending at T only, and an ``as_of``
lookup answers with the newest model learned at or before its moment, saying which."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import bearer
from web.eta.engine import forget_engine

T = datetime(2026, 10, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh_engine():
    forget_engine()
    yield
    forget_engine()


def _scan(number: str, status: str, substatus: str, at: datetime, city: str, country: str) -> dict:
    return {"tracking_number": number, "status": status, "substatus": substatus,
            "occurred_at": at.isoformat(), "location": {"name": city, "country": country}}


def _push(client: FlaskClient, key: str, *events: dict) -> None:
    body = {"events": list(events)}
    resp = client.post("/api/v1/carriers/acme_post/events", json=body, headers=bearer(key))
    assert resp.status_code == 200, resp.get_json()


def _refresh(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=["eta", "refresh", *args])
    assert result.exit_code == 0, result.output
    return result.output.split()[1]  # "model <version> learned from ..."


def _before_t(client: FlaskClient, key: str) -> None:
    """Two parcels delivered before T and one under way at T (its later scans come after)."""
    for i, start in enumerate((T - timedelta(days=30), T - timedelta(days=20))):
        number = f"RX00000{i}00CN"
        _push(client, key,
              _scan(number, "in_transit", "departed", start, "Shenzhen", "CN"),
              _scan(number, "in_transit", "customs_processing", start + timedelta(days=5), "Moscow", "RU"),
              _scan(number, "delivered", "recipient", start + timedelta(days=9), "Moscow", "RU"))
    _push(client, key, _scan("RX747628194CN", "in_transit", "departed", T - timedelta(days=2), "Shenzhen",
                             "CN"))


def _after_t(client: FlaskClient, key: str) -> None:
    """What happens after T: the parcel under way arrives, and a new parcel travels."""
    _push(client, key,
          _scan("RX747628194CN", "in_transit", "customs_processing", T + timedelta(days=3), "Moscow", "RU"),
          _scan("RX747628194CN", "delivered", "recipient", T + timedelta(days=6), "Moscow", "RU"),
          _scan("RX123456785CN", "in_transit", "departed", T + timedelta(days=1), "Shenzhen", "CN"),
          _scan("RX123456785CN", "delivered", "recipient", T + timedelta(days=4), "Moscow", "RU"))


def test_refresh_as_of_learns_nothing_from_scans_after_that_moment(app, client, make_key):
    key = make_key("carrier", "acme_post")
    _before_t(client, key)
    only_before = _refresh(app, "--as-of", T.isoformat())
    _after_t(client, key)
    replayed = _refresh(app, "--as-of", T.isoformat())
    # The version is the learning moment and a hash of everything learned: the same model, byte for byte.
    assert replayed == only_before and replayed.startswith("20261001T000000Z-")
    assert _refresh(app) != replayed  # learning now does read the later scans


def test_refresh_as_of_needs_an_iso_instant_with_its_offset(app):
    result = app.test_cli_runner().invoke(args=["eta", "refresh", "--as-of", "2026-10-01T00:00:00"])
    assert result.exit_code == 2 and "UTC offset" in result.output


def test_an_as_of_lookup_uses_the_newest_model_learned_by_then_and_says_which(app, client, make_key):
    key = make_key("carrier", "acme_post")
    _before_t(client, key)
    _after_t(client, key)
    _push(client, key, _scan("RX999999995CN", "in_transit", "departed", T - timedelta(days=1), "Shenzhen",
                             "CN"))
    at_t = _refresh(app, "--as-of", T.isoformat())
    later = _refresh(app, "--as-of", (T + timedelta(days=10)).isoformat())
    forget_engine()

    def model(as_of: datetime | None) -> dict:
        query = {"as_of": as_of.isoformat()} if as_of else {}
        resp = client.get("/api/v1/parcels/RX999999995CN/eta", query_string=query)
        assert resp.status_code == 200, resp.get_json()
        return resp.get_json()["model"]

    assert model(None)["version"] == later  # answers now: the model learned as of the latest moment
    assert model(T + timedelta(days=12))["version"] == later
    between = model(T + timedelta(days=2))
    assert between["version"] == at_t and datetime.fromisoformat(between["learned_at"]) == T
    before = model(T - timedelta(hours=12))  # no model had been learned by then: the network prior
    assert before == {"version": "prior", "learned_from": 0, "learned_at": None}
