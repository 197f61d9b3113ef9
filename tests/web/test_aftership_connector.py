"""The AfterShip connector end to end, through HTTP, against a local AfterShip
(tests/support/fake_aftership.py): created once with the slug, AfterShip's webhook (its own signature,
no key) on the AfterShip door, marked completed when delivered; a courier AfterShip cannot detect
shown as refused; a corrected courier replaces the tracking; a wrong key."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import bearer
from tests.support.fake_aftership import FakeAfterShipServer, start_fake_aftership, stop_fake_aftership
from tests.web.support import PARCELS, parcel
from tests.web.test_track17_connector import own, rejections, run_job
from web.access.signing import aftership_signature

KEY = "as-api-key-of-the-test-organization"
SECRET = "aftership-webhook-secret-0123456789"
SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "samples" / "aftership_get_tracking_result.json"
NUMBER = "RX747628194CN"  # UPU S10 from China: sent with AfterShip's slug china-post


@pytest.fixture
def aftership(app: Flask) -> Iterator[FakeAfterShipServer]:
    server, url = start_fake_aftership(KEY)
    app.config.update(
        AFTERSHIP_API_KEY=KEY, AFTERSHIP_API_URL=url, PULL_RETRIES=1, PULL_BACKOFF_BASE_SECONDS=0.01
    )
    yield server
    stop_fake_aftership(server)


def webhook_for(number: str) -> bytes:
    """AfterShip's tracking_update envelope around its own tracking sample (a delivered parcel), re-addressed
    to ``number``; everything else as AfterShip's SDK fixture has it."""
    tracking = json.loads(SAMPLE.read_text(encoding="utf-8"))["data"]["tracking"]
    tracking["tracking_number"] = number
    envelope = {
        "event": "tracking_update",
        "event_id": "94dadd60-ed26-46d0-aa52-3ced925a50ff",
        "is_tracking_first_tag": True,
        "msg": tracking,
        "ts": 1712741696,
    }
    return json.dumps(envelope).encode()


def aftership_door(client: FlaskClient, make_key: Callable[..., str]) -> None:
    """The carrier aftership (format aftership) with AfterShip's webhook secret as its signing secret."""
    make_key("carrier", "aftership", "aftership")
    url = "/api/v1/operators/carriers/aftership/signing-secret"
    assert client.post(url, json={"secret": SECRET}, headers=bearer(make_key("operator"))).status_code == 200


def push(client: FlaskClient, body: bytes, secret: str = SECRET) -> Any:
    headers = {"aftership-hmac-sha256": aftership_signature(secret, body), "Content-Type": "application/json"}
    return client.post("/api/v1/carriers/aftership/events", data=body, headers=headers)


def test_a_number_is_created_once_reported_by_webhook_and_completed_when_delivered(
    app: Flask,
    client: FlaskClient,
    aftership: FakeAfterShipServer,
    shop: dict[str, str],
    make_key: Callable[..., str],
) -> None:
    resp = client.post(PARCELS, json=parcel(NUMBER, "ORDER-1"), headers=shop)
    assert [(c["connector"], c["state"]) for c in resp.get_json()["connectors"]] == [("aftership", "queued")]
    assert aftership.state.seen == []
    run_job(app)
    run_job(app)
    (call,) = aftership.state.calls("POST", "/trackings")
    assert call.key == KEY
    assert call.body == {"tracking_number": NUMBER, "slug": "china-post"}
    assert own(client, shop, NUMBER)["connectors"][0]["state"] == "registered"

    aftership_door(client, make_key)
    assert push(client, webhook_for(NUMBER), secret="not-the-secret").status_code == 401
    pushed = push(client, webhook_for(NUMBER))
    assert pushed.status_code == 200, pushed.get_json()
    view = own(client, shop, NUMBER)
    assert view["status"] == "delivered" and len(view["events"]) == 14

    run_job(app)
    (done,) = aftership.state.calls("POST", "/mark-as-completed")
    assert done.path == f"/trackings/china-post/{NUMBER}/mark-as-completed"
    assert done.body == {"reason": "DELIVERED"}
    assert aftership.state.trackings[("china-post", NUMBER)]["active"] is False
    assert own(client, shop, NUMBER)["connectors"][0]["state"] == "stopped"


def test_a_courier_aftership_cannot_detect_is_shown_as_refused(
    app: Flask,
    client: FlaskClient,
    aftership: FakeAfterShipServer,
    shop: dict[str, str],
    make_key: Callable[..., str],
) -> None:
    odd = "ZX0012345"
    assert client.post(PARCELS, json=parcel(odd, "ORDER-ODD"), headers=shop).status_code == 201
    run_job(app)
    state = own(client, shop, odd)["connectors"][0]
    assert (state["state"], state["error"]["code"]) == ("rejected", "4012")
    assert "recognize the carrier" in state["error"]["message"]
    listed = [
        (r["connector"], r["number"], r["code"])
        for r in rejections(client, bearer(make_key("operator")), "aftership")
    ]
    assert listed == [("aftership", odd, "4012")]


def test_a_corrected_courier_replaces_the_tracking(
    app: Flask, client: FlaskClient, aftership: FakeAfterShipServer, shop: dict[str, str]
) -> None:
    assert client.post(PARCELS, json=parcel(NUMBER, "ORDER-1"), headers=shop).status_code == 201
    run_job(app)
    resp = client.patch(f"/api/v1/merchant/parcels/{NUMBER}", json={"carrier": "yanwen"}, headers=shop)
    assert resp.status_code == 200
    run_job(app)
    assert [c.path for c in aftership.state.calls("DELETE")] == [f"/trackings/china-post/{NUMBER}"]
    assert [c.body for c in aftership.state.calls("POST", "/trackings")][-1] == {
        "tracking_number": NUMBER,
        "slug": "yanwen",
    }
    assert set(aftership.state.trackings) == {("yanwen", NUMBER)}
    state = own(client, shop, NUMBER)["connectors"][0]
    assert (state["state"], state["carrier"], state["error"]) == ("registered", "yanwen", None)


def test_a_wrong_key_leaves_the_number_queued(
    app: Flask, client: FlaskClient, aftership: FakeAfterShipServer, shop: dict[str, str]
) -> None:
    app.config["AFTERSHIP_API_KEY"] = "wrong"
    assert client.post(PARCELS, json=parcel(NUMBER, "ORDER-1"), headers=shop).status_code == 201
    results = run_job(app)
    assert "401" in results[0].errors[-1]
    assert own(client, shop, NUMBER)["connectors"][0]["state"] == "queued"
    assert aftership.state.trackings == {}
