"""Standard Webhooks: a real delivery to a loopback receiver verifies with the off-the-shelf library.

The receiver is an HTTP server on 127.0.0.1 that answers 503 to the first ``fail_first`` POSTs, then 204;
the deliveries go through the production sender (urllib) and the scheduler's outbox job.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from standardwebhooks import Webhook, WebhookVerificationError

from tests.web.support import ago, register_parcels
from tracking.types import utcnow
from tracking.webhook_signing import signature_header
from web.worker.merchant_jobs import process_outbox_job

HOOKS = "/api/v1/webhooks"


class Receiver(BaseHTTPRequestHandler):
    """A merchant's endpoint: keeps every POST's headers (names lower-cased) and raw body."""

    received: list[tuple[dict[str, str], bytes]] = []
    fail_first = 0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(503 if len(Receiver.received) <= Receiver.fail_first else 204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver_url(app: Flask) -> Iterator[str]:
    app.config.update(WEBHOOK_SENDER="urllib", ALLOW_PRIVATE_WEBHOOK_TARGETS=True)
    Receiver.received, Receiver.fail_first = [], 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks"
    server.shutdown()
    server.server_close()


def subscribe_and_change(client: FlaskClient, shop: dict[str, str], scan: Any, url: str) -> dict[str, Any]:
    resp = client.post(HOOKS, json={"url": url, "events": ["status_changed"]}, headers=shop)
    assert resp.status_code == 201, resp.get_json()
    register_parcels(client, shop, "RX747628194CN")
    scan("RX747628194CN", "in_transit", "departed", ago(hours=2))
    created: dict[str, Any] = resp.get_json()
    return created


def test_a_real_delivery_verifies_with_the_standard_webhooks_library(app, client, shop, scan, receiver_url):
    hook = subscribe_and_change(client, shop, scan, receiver_url)
    assert hook["secret"].startswith("whsec_")
    now = utcnow()
    assert process_outbox_job(app, now).delivered == 1
    [(headers, body)] = Receiver.received
    event = Webhook(hook["secret"]).verify(body, headers)
    assert event["type"] == "status_changed" and event["id"] == headers["webhook-id"]
    assert headers["webhook-timestamp"] == str(int(now.timestamp()))
    assert event["data"]["parcel"]["tracking_number"] == "RX747628194CN"
    # the deprecated header is still there, keyed with the same secret string
    assert headers["silkway-signature"] == signature_header(hook["secret"], int(now.timestamp()), body)


def test_a_retry_carries_the_same_webhook_id_and_a_new_signature(app, client, shop, scan, receiver_url):
    hook = subscribe_and_change(client, shop, scan, receiver_url)
    Receiver.fail_first = 1
    first = utcnow()
    assert process_outbox_job(app, first).retrying == 1
    assert process_outbox_job(app, first + timedelta(seconds=31)).delivered == 1
    (failed, _), (retried, body) = Receiver.received
    event = Webhook(hook["secret"]).verify(body, retried)
    assert failed["webhook-id"] == retried["webhook-id"] == event["id"]
    assert int(retried["webhook-timestamp"]) - int(failed["webhook-timestamp"]) == 31
    assert failed["webhook-signature"] != retried["webhook-signature"]


def test_a_tampered_body_or_another_secret_fails_verification(app, client, shop, scan, receiver_url):
    hook = subscribe_and_change(client, shop, scan, receiver_url)
    process_outbox_job(app, utcnow())
    [(headers, body)] = Receiver.received
    with pytest.raises(WebhookVerificationError):
        Webhook(hook["secret"]).verify(body.replace(b"in_transit", b"delivered"), headers)
    other = client.post(HOOKS, json={"url": receiver_url}, headers=shop).get_json()["secret"]
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(body, headers)
