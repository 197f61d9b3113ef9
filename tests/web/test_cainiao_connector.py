"""The Cainiao connector end to end, through HTTP: a merchant's Cainiao number is queried at once and then
on a schedule at a local Cainiao (tests/support/fake_cainiao.py, answering the real samples), each answer
stored as a Cainiao payload; polling ends when the parcel arrives; other numbers go elsewhere."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from tests.support.fake_cainiao import FakeCainiaoServer, start_fake_cainiao, stop_fake_cainiao
from tests.web.support import PARCELS, parcel
from tests.web.test_track17_connector import own, run_job
from tracking import models
from tracking.types import utcnow

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "samples"


def module(name: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((SAMPLES / name).read_text(encoding="utf-8"))["module"][0]
    return found


@pytest.fixture
def cainiao(app: Flask) -> Iterator[FakeCainiaoServer]:
    server, url = start_fake_cainiao({"AE010698498": module("cainiao_global_detail_AE010698498.json")})
    app.config.update(CAINIAO_QUERY_URL=url, PULL_RETRIES=1, PULL_BACKOFF_BASE_SECONDS=0.01)
    yield server
    stop_fake_cainiao(server)


def due_now(app: Flask) -> None:
    """Bring every owed call's time to now, as if the poll interval had passed."""
    with app.app_context():
        session = app.extensions["silkway.db"].session()
        session.execute(
            update(models.ConnectorRegistration).values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )
        session.commit()
        session.close()


def test_a_cainiao_number_is_queried_stored_polled_and_left_once_arrived(
    app: Flask, client: FlaskClient, cainiao: FakeCainiaoServer, shop: dict[str, str]
) -> None:
    number = "AE010698498"
    resp = client.post(PARCELS, json=parcel(number, "ORDER-AE"), headers=shop)
    assert [(c["connector"], c["carrier"]) for c in resp.get_json()["connectors"]] == [("cainiao", "cainiao")]
    run_job(app)
    assert cainiao.state.numbers_asked() == [number]
    view = own(client, shop, number)
    assert view["status"] != "pending" and len(view["events"]) > 5  # the sample's scans, on the parcel
    state = view["connectors"][0]
    assert state["state"] == "registered" and state["error"] is None
    run_job(app)
    assert cainiao.state.numbers_asked() == [number]  # not before its next poll

    arrived = module("cainiao_global_detail_AE010698498.json")
    arrived["detailList"].insert(
        0,
        {
            **arrived["detailList"][0],
            "time": arrived["detailList"][0]["time"] + 86_400_000,
            "actionCode": "GTMS_SIGNED",
            "desc": "Delivered",
            "standerdDesc": "Delivered",
        },
    )
    cainiao.state.modules[number] = arrived
    due_now(app)
    run_job(app)
    assert cainiao.state.numbers_asked() == [number, number]
    assert own(client, shop, number)["status"] == "delivered"
    run_job(app)  # the delivered parcel's number owes a stop: polling ends, Cainiao is not asked again
    due_now(app)
    run_job(app)
    assert cainiao.state.numbers_asked() == [number, number]
    assert own(client, shop, number)["connectors"][0]["state"] == "stopped"


def test_a_number_with_no_scans_yet_keeps_being_polled(
    app: Flask, client: FlaskClient, cainiao: FakeCainiaoServer, shop: dict[str, str]
) -> None:
    number = "UZ0556033196Y"
    cainiao.state.modules[number] = module("cainiao_global_detail_UZ0556033196Y.json")
    assert client.post(PARCELS, json=parcel(number, "ORDER-UZ"), headers=shop).status_code == 201
    run_job(app)
    view = own(client, shop, number)
    assert view["events"] == [] and view["connectors"][0]["state"] == "registered"
    due_now(app)
    run_job(app)
    assert cainiao.state.numbers_asked() == [number, number]


def test_only_cainiao_numbers_go_to_cainiao(
    app: Flask, client: FlaskClient, cainiao: FakeCainiaoServer, shop: dict[str, str]
) -> None:
    resp = client.post(PARCELS, json=parcel("RX747628194CN", "ORDER-CP"), headers=shop)
    assert resp.get_json()["connectors"] == []  # China Post: no connector on reports on it
    run_job(app)
    assert cainiao.state.numbers_asked() == []


def test_cainiao_is_asked_at_most_once_a_second(
    app: Flask, client: FlaskClient, cainiao: FakeCainiaoServer, shop: dict[str, str]
) -> None:
    numbers = [f"LP{i:014d}" for i in range(1, 5)]
    body = {"parcels": [parcel(n, f"ORDER-{n}") for n in numbers]}
    assert client.post(PARCELS, json=body, headers=shop).status_code == 201
    run_job(app)
    asked = cainiao.state.asked
    assert sorted(n for n, _ in asked) == numbers
    assert asked[-1][1] - asked[0][1] >= len(asked) - 1 - 0.1
