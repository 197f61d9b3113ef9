"""Standard Webhooks: a real delivery to a loopback receiver verifies with the off-the-shelf library.

The receiver is an HTTP server on 127.0.0.1 (tests/support/webhook_receiver.py); the deliveries go
through the production sender (urllib) and the scheduler's outbox job.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from standardwebhooks import Webhook, WebhookVerificationError

from tests.support.webhook_receiver import WebhookReceiver, webhook_receiver
from tests.web.support import ago, register_parcels
from tracking.types import utcnow
from tracking.webhook_signing import signature_header
from web.worker.merchant_jobs import process_outbox_job

HOOKS = "/api/v1/webhooks"


@pytest.fixture
def receiver(app: Flask) -> Iterator[WebhookReceiver]:
    app.config.update(WEBHOOK_SENDER="urllib", ALLOW_PRIVATE_WEBHOOK_TARGETS=True)
    with webhook_receiver() as serving:
        yield serving


def subscribe_and_change(client: FlaskClient, shop: dict[str, str], scan: Any, url: str) -> dict[str, Any]:
    resp = client.post(HOOKS, json={"url": url, "events": ["status_changed"]}, headers=shop)
    assert resp.status_code == 201, resp.get_json()
    register_parcels(client, shop, "RX747628194CN")
    scan("RX747628194CN", "in_transit", "departed", ago(hours=2))
    created: dict[str, Any] = resp.get_json()
    return created


def test_a_real_delivery_verifies_with_the_standard_webhooks_library(app, client, shop, scan, receiver):
    hook = subscribe_and_change(client, shop, scan, receiver.url)
    assert hook["secret"].startswith("whsec_")
    now = utcnow()
    assert process_outbox_job(app, now).delivered == 1
    [(headers, body)] = receiver.received
    event = Webhook(hook["secret"]).verify(body, headers)
    assert event["type"] == "status_changed" and event["id"] == headers["webhook-id"]
    assert headers["webhook-timestamp"] == str(int(now.timestamp()))
    assert event["data"]["parcel"]["tracking_number"] == "RX747628194CN"
    # the deprecated header is still there, keyed with the same secret string
    assert headers["silkway-signature"] == signature_header(hook["secret"], int(now.timestamp()), body)


def test_a_retry_carries_the_same_webhook_id_and_a_new_signature(app, client, shop, scan, receiver):
    hook = subscribe_and_change(client, shop, scan, receiver.url)
    receiver.fail_first = 1
    first = utcnow()
    assert process_outbox_job(app, first).retrying == 1
    assert process_outbox_job(app, first + timedelta(seconds=31)).delivered == 1
    (failed, _), (retried, body) = receiver.received
    event = Webhook(hook["secret"]).verify(body, retried)
    assert failed["webhook-id"] == retried["webhook-id"] == event["id"]
    assert int(retried["webhook-timestamp"]) - int(failed["webhook-timestamp"]) == 31
    assert failed["webhook-signature"] != retried["webhook-signature"]


def test_a_tampered_body_or_another_secret_fails_verification(app, client, shop, scan, receiver):
    hook = subscribe_and_change(client, shop, scan, receiver.url)
    process_outbox_job(app, utcnow())
    [(headers, body)] = receiver.received
    with pytest.raises(WebhookVerificationError):
        Webhook(hook["secret"]).verify(body.replace(b"in_transit", b"delivered"), headers)
    other = client.post(HOOKS, json={"url": receiver.url}, headers=shop).get_json()["secret"]
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(body, headers)
