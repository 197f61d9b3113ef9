"""The CDEK connector end to end, through HTTP, against a local CDEK API v2 (tests/support/fake_cdek.py):
OAuth client credentials, the ORDER_STATUS subscription made once, an order's statuses pulled by CDEK
number and shown on the parcel, polled until delivered; an order CDEK does not know; bad credentials."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.fake_cdek import FakeCdekServer, start_fake_cdek, stop_fake_cdek
from tests.web.support import PARCELS, parcel
from tests.web.test_cainiao_connector import due_now
from tests.web.test_track17_connector import own, run_job

CLIENT_ID, SECRET = "silkway-test-client", "silkway-test-secret"
HOOK = "https://silkway.example/api/v1/carriers/cdek/events"
NUMBER = "1106153417"  # the CDEK number of the real ORDER_STATUS sample


def status(code: str, at: str, city: str = "Новосибирск") -> dict[str, Any]:
    names = {
        "CREATED": "Создан",
        "ACCEPTED_AT_PICK_UP_POINT": "Принят на склад отправителя",
        "DELIVERED": "Вручен",
    }
    return {"code": code, "name": names.get(code, code), "date_time": at, "city": city}


@pytest.fixture
def cdek(app: Flask) -> Iterator[FakeCdekServer]:
    server, url = start_fake_cdek(CLIENT_ID, SECRET)
    server.state.orders[NUMBER] = {
        "uuid": "72753031-8347-40c0-ab0f-1a49c7a262c1",
        "cdek_number": NUMBER,
        "number": "1106152821",
        "statuses": [
            status("ACCEPTED_AT_PICK_UP_POINT", "2019-07-09T10:02:11+0700"),
            status("CREATED", "2019-07-08T17:40:05+0700"),
        ],
    }
    app.config.update(
        CDEK_CLIENT_ID=CLIENT_ID,
        CDEK_CLIENT_SECRET=SECRET,
        CDEK_API_URL=url,
        CDEK_WEBHOOK_URL=HOOK,
        PULL_RETRIES=1,
        PULL_BACKOFF_BASE_SECONDS=0.01,
    )
    yield server
    stop_fake_cdek(server)


def test_a_cdek_number_is_subscribed_pulled_shown_and_polled_until_delivered(
    app: Flask, client: FlaskClient, cdek: FakeCdekServer, shop: dict[str, str]
) -> None:
    resp = client.post(PARCELS, json=parcel(NUMBER, "ORDER-CDEK"), headers=shop)
    assert [(c["connector"], c["carrier"]) for c in resp.get_json()["connectors"]] == [("cdek", "cdek")]
    run_job(app)
    assert cdek.state.paths("POST", "/v2/oauth/token") == ["/v2/oauth/token"]
    assert cdek.state.webhooks == [
        {"uuid": cdek.state.webhooks[0]["uuid"], "type": "ORDER_STATUS", "url": HOOK}
    ]
    assert cdek.state.paths("GET", "/v2/orders") == [f"/v2/orders?cdek_number={NUMBER}"]
    view = own(client, shop, NUMBER)
    assert len(view["events"]) == 2 and view["connectors"][0]["state"] == "registered"

    cdek.state.orders[NUMBER]["statuses"].insert(0, status("DELIVERED", "2019-07-11T12:41:43+0700"))
    due_now(app)
    run_job(app)
    assert own(client, shop, NUMBER)["status"] == "delivered"
    assert len(cdek.state.paths("POST", "/v2/oauth/token")) == 1  # the token is reused
    assert len(cdek.state.webhooks) == 1  # subscribed once
    run_job(app)
    due_now(app)
    run_job(app)
    assert len(cdek.state.paths("GET", "/v2/orders")) == 2  # polling ended with the delivery
    assert own(client, shop, NUMBER)["connectors"][0]["state"] == "stopped"


def test_an_order_cdek_does_not_know_is_shown_as_refused(
    app: Flask, client: FlaskClient, cdek: FakeCdekServer, shop: dict[str, str]
) -> None:
    assert client.post(PARCELS, json=parcel("1234567890", "ORDER-X"), headers=shop).status_code == 201
    run_job(app)
    state = own(client, shop, "1234567890")["connectors"][0]
    assert (state["state"], state["error"]["code"]) == ("rejected", "v2_entity_not_found")


def test_an_expired_token_is_asked_again_once(
    app: Flask, client: FlaskClient, cdek: FakeCdekServer, shop: dict[str, str]
) -> None:
    cdek.state.token_seconds = 0  # CDEK's token dies at once: the 401 makes the connector ask again
    assert client.post(PARCELS, json=parcel(NUMBER, "ORDER-CDEK"), headers=shop).status_code == 201
    results = run_job(app)
    assert len(cdek.state.paths("POST", "/v2/oauth/token")) >= 2
    assert own(client, shop, NUMBER)["connectors"][0]["state"] == "queued" and results[0].errors


def test_bad_credentials_leave_the_number_queued(
    app: Flask, client: FlaskClient, cdek: FakeCdekServer, shop: dict[str, str]
) -> None:
    app.config["CDEK_CLIENT_SECRET"] = "wrong"
    assert client.post(PARCELS, json=parcel(NUMBER, "ORDER-CDEK"), headers=shop).status_code == 201
    results = run_job(app)
    assert "client credentials" in results[0].errors[-1]
    assert own(client, shop, NUMBER)["connectors"][0]["state"] == "queued"
    assert cdek.state.paths("GET", "/v2/orders") == []
