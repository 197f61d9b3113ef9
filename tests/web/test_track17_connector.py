"""The 17TRACK connector end to end, through HTTP: a merchant registers, the connectors' job registers the
number with a local 17TRACK server (tests/support/fake_track17.py), 17TRACK's webhook (the real sample)
lands on the 17TRACK door, and the delivered parcel is stopped; refusals show on the parcel and in the
operators' list; a large batch goes out in calls of at most 40 within the rate limit."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import bearer
from tests.support.fake_track17 import FakeTrack17Server, start_fake_track17, stop_fake_track17
from tests.web.support import PARCELS, parcel
from tracking.types import utcnow
from web.connectors import drain

KEY = "17token-of-the-test-account"
SAMPLE = (
    Path(__file__).resolve().parents[1] / "fixtures" / "samples" / "17track_v2_webhook_TRACKING_UPDATED.json"
)
ALIEXPRESS = "LP00123456789012"  # the Cainiao / AliExpress LP shape: sent with 17TRACK's Cainiao key
CAINIAO = 190271


@pytest.fixture
def track17() -> Iterator[tuple[FakeTrack17Server, str]]:
    server, url = start_fake_track17(KEY, quota_total=10_000)
    yield server, url
    stop_fake_track17(server)


@pytest.fixture
def connected(app: Flask, track17: tuple[FakeTrack17Server, str]) -> FakeTrack17Server:
    """The app with 17TRACK switched on, pointed at the local server; quick retries."""
    server, url = track17
    app.config.update(
        TRACK17_API_KEY=KEY, TRACK17_API_URL=url, PULL_RETRIES=1, PULL_BACKOFF_BASE_SECONDS=0.01
    )
    return server


def run_job(app: Flask) -> list[drain.DrainResult]:
    with app.app_context():
        return drain.connectors_job(app, utcnow())


def own(client: FlaskClient, headers: dict[str, str], number: str) -> dict[str, Any]:
    resp = client.get(f"/api/v1/merchant/parcels/{number}", headers=headers)
    assert resp.status_code == 200, resp.get_json()
    body: dict[str, Any] = resp.get_json()
    return body


def webhook_for(number: str) -> bytes:
    """The real 17TRACK sample, re-addressed to ``number`` (everything else as 17TRACK sent it)."""
    doc = json.loads(SAMPLE.read_text(encoding="utf-8"))
    doc["data"]["number"] = number
    return json.dumps(doc).encode()


def test_a_registered_number_is_registered_once_reported_by_webhook_and_stopped_when_delivered(
    app: Flask,
    client: FlaskClient,
    connected: FakeTrack17Server,
    shop: dict[str, str],
    make_key: Callable[..., str],
) -> None:
    resp = client.post(PARCELS, json=parcel(ALIEXPRESS, "ORDER-AE-1"), headers=shop)
    assert resp.status_code == 201
    assert [(c["connector"], c["state"], c["carrier"]) for c in resp.get_json()["connectors"]] == [
        ("track17", "queued", "cainiao")
    ]
    assert connected.state.calls("register") == []  # the merchant's request never waits for 17TRACK

    run_job(app)
    run_job(app)  # nothing is registered twice
    calls = connected.state.calls("register")
    assert len(calls) == 1
    assert calls[0].token == KEY
    assert calls[0].body == [{"number": ALIEXPRESS, "carrier": CAINIAO}]
    assert [c["state"] for c in own(client, shop, ALIEXPRESS)["connectors"]] == ["registered"]

    # 17TRACK's webhook as 17TRACK sends it: no key, signed with its scheme (sign = sha256(body + "/" +
    # key)), on the 17TRACK door of a carrier whose signing secret is the 17TRACK key.
    track17_door(client, make_key)
    pushed = push_webhook(client, webhook_for(ALIEXPRESS))
    assert pushed.status_code == 200, pushed.get_json()
    view = own(client, shop, ALIEXPRESS)
    assert view["status"] == "delivered"
    assert len(view["events"]) == 5
    assert connected.state.calls("stoptrack") == []

    run_job(app)
    stops = connected.state.calls("stoptrack")
    assert [c.body for c in stops] == [[{"number": ALIEXPRESS, "carrier": CAINIAO}]]
    state = own(client, shop, ALIEXPRESS)["connectors"][0]
    assert state["state"] == "stopped" and state["stopped_at"] is not None
    run_job(app)
    assert len(connected.state.calls("stoptrack")) == 1


def track17_door(client: FlaskClient, make_key: Callable[..., str]) -> None:
    """The carrier track17 (format track17) with the 17TRACK key as its signing secret."""
    make_key("carrier", "track17")
    operator = bearer(make_key("operator"))
    url = "/api/v1/operators/carriers/track17/signing-secret"
    assert client.post(url, json={"secret": KEY}, headers=operator).status_code == 200


def push_webhook(client: FlaskClient, body: bytes, key: str = KEY) -> Any:
    """POST a webhook as 17TRACK does: its sign header, no Authorization."""
    sign = hashlib.sha256(body + b"/" + key.encode()).hexdigest()
    headers = {"sign": sign, "Content-Type": "application/json"}
    return client.post("/api/v1/carriers/track17/events", data=body, headers=headers)


def test_the_17track_door_takes_a_signed_webhook_without_a_key_and_refuses_a_bad_sign(
    client: FlaskClient, make_key: Callable[..., str], shop: dict[str, str]
) -> None:
    assert client.post(PARCELS, json=parcel(ALIEXPRESS, "ORDER-1"), headers=shop).status_code == 201
    body = webhook_for(ALIEXPRESS)
    assert push_webhook(client, body).status_code == 401  # no secret set yet: a key is needed
    track17_door(client, make_key)
    refused = push_webhook(client, body, key="someone-else")
    assert refused.status_code == 401 and refused.get_json()["errors"][0]["field"] == "sign"
    unsigned = client.post(
        "/api/v1/carriers/track17/events", data=body, headers={"Content-Type": "application/json"}
    )
    assert unsigned.status_code == 401
    assert own(client, shop, ALIEXPRESS)["events"] == []
    assert push_webhook(client, body).status_code == 200
    assert len(own(client, shop, ALIEXPRESS)["events"]) == 5


def rejections(
    client: FlaskClient, operator: dict[str, str], connector: str = "track17"
) -> list[dict[str, Any]]:
    resp = client.get(f"/api/v1/operators/connector-rejections?connector={connector}", headers=operator)
    assert resp.status_code == 200, resp.get_json()
    found: list[dict[str, Any]] = resp.get_json()["rejections"]
    return found


def test_a_spent_quota_shows_on_the_parcel_and_to_operators_and_is_retried_once_topped_up(
    app: Flask,
    client: FlaskClient,
    connected: FakeTrack17Server,
    shop: dict[str, str],
    make_key: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connected.state.quota_total = 1
    numbers = ["RX747628194CN", ALIEXPRESS]
    body = {"parcels": [parcel(n, f"ORDER-{n}") for n in numbers]}
    assert client.post(PARCELS, json=body, headers=shop).status_code == 201
    run_job(app)
    first, second = (own(client, shop, n)["connectors"][0] for n in numbers)
    assert first["state"] == "registered" and first["error"] is None
    assert second["state"] == "rejected"
    assert second["error"]["code"] == "-18019908"
    assert "quota" in second["error"]["message"].lower()
    operator = bearer(make_key("operator"))
    listed = rejections(client, operator)
    assert [(r["number"], r["code"], r["merchant"]) for r in listed] == [
        (ALIEXPRESS, "-18019908", "Shop One")
    ]

    run_job(app)  # the quota is still spent: nothing more is sent
    assert len(connected.state.calls("register")) == 1

    connected.state.quota_total = 5
    monkeypatch.setattr(drain, "QUOTA_CHECK_SECONDS", 0.0)
    run_job(app)
    assert own(client, shop, ALIEXPRESS)["connectors"][0]["state"] == "registered"
    assert rejections(client, operator) == []


def test_a_number_17track_cannot_place_is_shown_as_rejected(
    app: Flask,
    client: FlaskClient,
    connected: FakeTrack17Server,
    shop: dict[str, str],
    make_key: Callable[..., str],
) -> None:
    odd = "ZX0012345"  # no shape Silkway knows: sent without a carrier, and 17TRACK cannot detect one
    assert client.post(PARCELS, json=parcel(odd, "ORDER-ODD"), headers=shop).status_code == 201
    run_job(app)
    assert connected.state.calls("register")[0].body == [{"number": odd}]
    state = own(client, shop, odd)["connectors"][0]
    assert (state["state"], state["carrier"], state["error"]["code"]) == ("rejected", None, "-18019903")
    listed = rejections(client, bearer(make_key("operator")))
    assert [(r["number"], r["code"], r["carrier"]) for r in listed] == [(odd, "-18019903", None)]


def numbers(count: int) -> list[str]:
    return [f"LP{index:014d}" for index in range(1, count + 1)]


def test_a_large_batch_goes_out_in_calls_of_at_most_40_within_the_rate_limit(
    app: Flask, client: FlaskClient, connected: FakeTrack17Server, shop: dict[str, str]
) -> None:
    wanted = numbers(400)
    body = {"parcels": [parcel(n, f"ORDER-{n}") for n in wanted]}
    assert client.post(PARCELS, json=body, headers=shop).status_code == 201
    assert connected.state.calls("register") == []
    started = time.monotonic()
    for _ in range(3):
        run_job(app)
    calls = connected.state.calls("register")
    sent = [item["number"] for call in calls for item in call.body]
    assert sorted(sent) == wanted  # each number once
    assert len(calls) == 10 and all(len(call.body) <= 40 for call in calls)
    every = [c.at for c in connected.state.seen]
    # The client spaces its calls at 3 per second; the server would have answered 429 to anything faster.
    assert every[-1] - every[0] >= (len(every) - 1) / 3.0 - 0.2
    assert time.monotonic() - started < 30
    assert {c["state"] for n in wanted[:3] for c in own(client, shop, n)["connectors"]} == {"registered"}


def test_a_429_postpones_the_batch_by_its_retry_after(
    app: Flask, client: FlaskClient, connected: FakeTrack17Server, shop: dict[str, str]
) -> None:
    assert client.post(PARCELS, json=parcel("RX747628194CN", "ORDER-1"), headers=shop).status_code == 201
    run_job(app)
    assert client.post(PARCELS, json=parcel(ALIEXPRESS, "ORDER-2"), headers=shop).status_code == 201
    # Retry-After long enough that a loaded machine is still within it at the next run
    connected.state.script(rate_limit=1, retry_after=4)
    results = run_job(app)
    asked = time.monotonic()  # the batch was postponed by 4 s before this
    assert "429" in results[0].errors[-1] and "retry after 4 s" in results[0].errors[-1]
    assert own(client, shop, ALIEXPRESS)["connectors"][0]["state"] == "queued"
    run_job(app)  # still within the Retry-After: not asked again
    assert len(connected.state.calls("register")) == 1 or time.monotonic() - asked >= 4
    time.sleep(max(0.0, 4.2 - (time.monotonic() - asked)))
    run_job(app)
    assert own(client, shop, ALIEXPRESS)["connectors"][0]["state"] == "registered"
    assert len(connected.state.calls("register")) == 2


def test_a_refused_key_leaves_the_number_queued_with_the_reason(
    app: Flask, client: FlaskClient, connected: FakeTrack17Server, shop: dict[str, str]
) -> None:
    app.config["TRACK17_API_KEY"] = "not-the-key"
    assert client.post(PARCELS, json=parcel(ALIEXPRESS, "ORDER-1"), headers=shop).status_code == 201
    results = run_job(app)
    assert "401" in results[0].errors[-1]
    state = own(client, shop, ALIEXPRESS)["connectors"][0]
    assert state["state"] == "queued" and connected.state.calls("register") == []


def test_without_a_key_nothing_is_queued(app: Flask, client: FlaskClient, shop: dict[str, str]) -> None:
    resp = client.post(PARCELS, json=parcel(ALIEXPRESS, "ORDER-1"), headers=shop)
    assert resp.get_json()["connectors"] == []
    assert run_job(app) == []


def test_a_carrier_corrected_by_the_merchant_reaches_17track(
    app: Flask, client: FlaskClient, connected: FakeTrack17Server, shop: dict[str, str], rival: dict[str, str]
) -> None:
    assert client.post(PARCELS, json=parcel(ALIEXPRESS, "ORDER-1"), headers=shop).status_code == 201
    run_job(app)
    url = f"/api/v1/merchant/parcels/{ALIEXPRESS}"
    resp = client.patch(url, json={"carrier": "yanwen"}, headers=shop)
    assert resp.status_code == 200, resp.get_json()
    (state,) = resp.get_json()["connectors"]
    assert (state["carrier"], state["state"]) == ("yanwen", "registered")  # the change is owed
    assert connected.state.calls("changecarrier") == []

    run_job(app)
    (call,) = connected.state.calls("changecarrier")
    assert call.token == KEY
    assert call.body == [{"number": ALIEXPRESS, "carrier_old": CAINIAO, "carrier_new": 190012}]
    assert connected.state.numbers[ALIEXPRESS].carrier == 190012
    run_job(app)
    assert len(connected.state.calls("changecarrier")) == 1

    assert client.patch(url, json={"carrier": "yanwen"}, headers=rival).status_code == 404
    bad = client.patch(url, json={"carrier": "Yan Wen"}, headers=shop)
    assert bad.status_code == 400 and bad.get_json()["errors"][0]["field"] == "carrier"
    extra = client.patch(url, json={"carrier": "yanwen", "colour": "red"}, headers=shop)
    assert extra.status_code == 422 and extra.get_json()["errors"][0]["field"] == "colour"


def test_a_rejected_number_is_registered_again_with_the_corrected_carrier(
    app: Flask, client: FlaskClient, connected: FakeTrack17Server, shop: dict[str, str]
) -> None:
    odd = "ZX0012345"
    assert client.post(PARCELS, json=parcel(odd, "ORDER-ODD"), headers=shop).status_code == 201
    run_job(app)
    assert own(client, shop, odd)["connectors"][0]["state"] == "rejected"
    assert (
        client.patch(f"/api/v1/merchant/parcels/{odd}", json={"carrier": "cdek"}, headers=shop).status_code
        == 200
    )
    run_job(app)
    assert [c.body for c in connected.state.calls("register")] == [
        [{"number": odd}],
        [{"number": odd, "carrier": 100030}],
    ]
    state = own(client, shop, odd)["connectors"][0]
    assert (state["state"], state["carrier"], state["error"]) == ("registered", "cdek", None)


def test_the_operators_commands_list_the_connectors_and_drain_them(
    app: Flask, client: FlaskClient, connected: FakeTrack17Server, shop: dict[str, str]
) -> None:
    assert client.post(PARCELS, json=parcel(ALIEXPRESS, "ORDER-1"), headers=shop).status_code == 201
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["connectors", "list"])
    assert listed.exit_code == 0, listed.output
    assert listed.output.strip() == (
        f"track17: {app.config['TRACK17_API_URL']} queued=1 registered=0 rejected=0 stopped=0 owes_register=1"
    )
    ran = runner.invoke(args=["connectors", "run"])
    assert ran.exit_code == 0, ran.output
    assert "track17: calls=2 stops_queued=0 registered=1" in ran.output  # getquota, then register
    assert "registered=1 rejected=0" in runner.invoke(args=["connectors", "list"]).output


def test_without_a_key_the_commands_say_how_to_switch_17track_on(app: Flask) -> None:
    output = app.test_cli_runner().invoke(args=["connectors", "list"]).output
    assert "SILKWAY_TRACK17_API_KEY" in output


def test_the_openapi_document_describes_the_connectors(client: FlaskClient) -> None:
    doc = client.get("/api/openapi.json").get_json()
    paths, schemas = doc["paths"], doc["components"]["schemas"]
    patch = paths["/api/v1/merchant/parcels/{tracking_number}"]["patch"]
    assert {"200", "400", "401", "404", "422"} <= set(patch["responses"])
    rejections = paths["/api/v1/operators/connector-rejections"]["get"]
    assert {p["name"] for p in rejections["parameters"]} >= {"connector", "limit", "cursor"}
    assert schemas["ConnectorState"]["properties"]["state"]["enum"] == [
        "queued",
        "registered",
        "rejected",
        "stopped",
    ]
    assert "connectors" in schemas["MerchantParcelDetail"]["required"]
