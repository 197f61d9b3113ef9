"""Webhooks a merchant can try, through HTTP: a signed test ping through the outbox, shown in the delivery
log, and a failed delivery sent again by its id."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
import pytest
from flask.testing import FlaskClient
from standardwebhooks import Webhook

from tests.web.support import HOOKS, ago, register_parcels, subscribe
from tracking.types import utcnow
from web.worker.merchant_jobs import process_outbox_job

pytestmark = pytest.mark.usefixtures("fake_webhooks")  # tests/web/conftest.py


def deliveries(client: FlaskClient, headers: dict[str, str], hook_id: int) -> list[dict[str, Any]]:
    resp = client.get(f"{HOOKS}/{hook_id}/deliveries", headers=headers)
    assert resp.status_code == 200
    log: list[dict[str, Any]] = resp.get_json()["deliveries"]
    return log


def test_ping_sends_a_signed_test_delivery_shown_in_the_log(app, client, shop, receiver):
    hook = subscribe(client, shop, events=["delayed"])  # a ping goes whatever events the hook takes
    resp = client.post(f"{HOOKS}/{hook['id']}/ping", headers=shop)
    assert resp.status_code == 202, resp.get_json()
    answer = resp.get_json()
    assert answer["status"] == "accepted" and answer["event"] == "ping"
    assert resp.headers["Location"] == answer["deliveries"] == f"{HOOKS}/{hook['id']}/deliveries"
    assert process_outbox_job(app, utcnow()).delivered == 1
    [request] = receiver.received
    event = Webhook(hook["secret"]).verify(request.body, request.headers)  # Standard Webhooks verifies it
    assert event["type"] == "ping" and event["id"] == answer["event_id"]
    assert event["data"]["webhook"] == {"id": hook["id"], "url": hook["url"]}
    [entry] = deliveries(client, shop, hook["id"])
    assert entry["event"] == "ping" and entry["event_id"] == answer["event_id"]
    assert entry["succeeded"] is True and entry["state"] == "delivered" and entry["parcel_id"] is None


def test_ping_of_another_merchants_webhook_is_a_404(app, client, shop, rival, receiver):
    hook = subscribe(client, rival)
    resp = client.post(f"{HOOKS}/{hook['id']}/ping", headers=shop)
    assert resp.status_code == 404 and resp.content_type == "application/problem+json"
    assert process_outbox_job(app, utcnow()).claimed == 0 and receiver.attempts == []
    assert client.post(f"{HOOKS}/{hook['id']}/ping", headers=rival).status_code == 202


def test_ping_of_a_deleted_webhook_is_a_404(client, shop):
    hook = subscribe(client, shop)
    assert client.delete(f"{HOOKS}/{hook['id']}", headers=shop).status_code == 204
    assert client.post(f"{HOOKS}/{hook['id']}/ping", headers=shop).status_code == 404


def test_failed_delivery_is_sent_again_by_its_id(app, client, shop, scan, receiver):
    hook = subscribe(client, shop)
    register_parcels(client, shop, "RX747628194CN")
    scan("RX747628194CN", "in_transit", "departed", ago(hours=2))
    start = utcnow()
    receiver.fail_until = start + timedelta(days=30)  # down for longer than the 24 hours of retries
    for hours in range(0, 27, 2):
        process_outbox_job(app, start + timedelta(hours=hours))
    log = deliveries(client, shop, hook["id"])
    status_changed = [d for d in log if d["event"] == "status_changed"]
    assert status_changed and status_changed[0]["state"] == "failed"
    failed = status_changed[0]
    resp = client.post(f"{HOOKS}/{hook['id']}/deliveries/{failed['id']}/redeliver", headers=shop)
    assert resp.status_code == 202, resp.get_json()
    assert resp.get_json()["event_id"] == failed["event_id"]
    again = client.post(f"{HOOKS}/{hook['id']}/deliveries/{failed['id']}/redeliver", headers=shop)
    assert again.status_code == 409  # still pending: not queued twice
    receiver.fail_until = None  # the receiver is fixed
    process_outbox_job(app, start + timedelta(hours=27))
    delivered = [r for r in receiver.received if orjson.loads(r.body)["type"] == "status_changed"]
    assert len(delivered) == 1 and orjson.loads(delivered[0].body)["id"] == failed["event_id"]
    newest = deliveries(client, shop, hook["id"])[0]
    assert newest["event_id"] == failed["event_id"] and newest["succeeded"] and newest["state"] == "delivered"


def test_redelivering_another_webhooks_delivery_is_a_404(app, client, shop, rival, receiver):
    theirs = subscribe(client, rival)
    mine = subscribe(client, shop)
    client.post(f"{HOOKS}/{theirs['id']}/ping", headers=rival)
    process_outbox_job(app, utcnow())
    [entry] = deliveries(client, rival, theirs["id"])
    assert (
        client.post(f"{HOOKS}/{mine['id']}/deliveries/{entry['id']}/redeliver", headers=shop).status_code
        == 404
    )
    assert (
        client.post(f"{HOOKS}/{theirs['id']}/deliveries/{entry['id']}/redeliver", headers=shop).status_code
        == 404
    )
    assert client.post(f"{HOOKS}/{mine['id']}/deliveries/999999/redeliver", headers=shop).status_code == 404


def test_openapi_documents_ping_and_redeliver(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert "202" in paths["/api/v1/webhooks/{subscription_id}/ping"]["post"]["responses"]
    redeliver = paths["/api/v1/webhooks/{subscription_id}/deliveries/{delivery_id}/redeliver"]["post"]
    assert {"202", "404", "409"} <= set(redeliver["responses"])
