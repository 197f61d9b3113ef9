"""Merchant webhooks: subscribing, SSRF refusal, signed delivery from the outbox, retries and the log.

Deliveries go through the fake sender (chosen by WEBHOOK_SENDER=fake) and the scheduler's job function,
with simulated time passed as ``now``.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import bearer
from tests.web.support import HOOKS, RECEIVER, ago, register_parcels, subscribe
from tracking.types import utcnow
from tracking.webhook_delivery import SendResult, WebhookRequest
from web.worker.merchant_jobs import process_outbox, process_outbox_job, stalled_parcels_job

pytestmark = pytest.mark.usefixtures("fake_webhooks")  # tests/web/conftest.py


def parcel_departs(client: FlaskClient, shop: dict[str, str], scan: Callable[..., None]) -> None:
    """One status change to announce: the shop's parcel is registered, then scanned as departed 2 h ago."""
    register_parcels(client, shop, "RX747628194CN")
    scan("RX747628194CN", "in_transit", "departed", ago(hours=2))


JOURNEY = [
    ("info_received", "label_created"),
    ("in_transit", "picked_up"),
    ("in_transit", "departed"),
    ("in_transit", "customs_processing"),
]


def test_subscription_shows_its_secret_once(client, shop):
    created = subscribe(client, shop, events=["status_changed"], description="orders")
    assert created["secret"].startswith("whsec_") and created["events"] == ["status_changed"]
    listed = client.get(HOOKS, headers=shop).get_json()["webhooks"]
    assert [w["id"] for w in listed] == [created["id"]]
    assert "secret" not in listed[0] and created["secret"] not in orjson.dumps(listed).decode()


def test_events_default_to_all_three(client, shop):
    assert subscribe(client, shop)["events"] == ["status_changed", "eta_revised", "delayed"]


def test_unknown_event_is_named(client, shop):
    resp = client.post(HOOKS, json={"url": RECEIVER, "events": ["status_changed", "shipped"]}, headers=shop)
    assert resp.status_code == 422
    assert resp.get_json()["errors"][0]["field"] == "events[1]"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hooks",
        "http://localhost:8080/hooks",
        "http://10.1.2.3/hooks",
        "https://192.168.0.10/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hooks",
        "http://0.0.0.0/hooks",
        "http://100.64.0.1/hooks",
    ],
)
def test_private_loopback_and_link_local_targets_are_refused(app, client, shop, url):
    app.config["ALLOW_PRIVATE_WEBHOOK_TARGETS"] = False
    resp = client.post(HOOKS, json={"url": url}, headers=shop)
    assert resp.status_code == 422, resp.get_json()
    assert resp.get_json()["errors"][0]["field"] == "url"
    assert client.get(HOOKS, headers=shop).get_json()["webhooks"] == []


@pytest.mark.parametrize(
    "url", ["ftp://93.184.215.14/x", "file:///etc/passwd", "javascript:alert(1)", "hooks"]
)
def test_only_http_and_https_urls_are_accepted(client, shop, url):
    resp = client.post(HOOKS, json={"url": url}, headers=shop)
    assert resp.status_code == 422
    assert resp.get_json()["errors"][0]["field"] == "url"


def test_public_address_is_accepted_without_the_private_allowance(app, client, shop):
    app.config["ALLOW_PRIVATE_WEBHOOK_TARGETS"] = False
    assert subscribe(client, shop, url="https://93.184.215.14/hooks")["url"] == "https://93.184.215.14/hooks"


def test_status_change_is_delivered_signed_and_verifiable(app, client, shop, scan, receiver):
    secret = subscribe(client, shop)["secret"]
    parcel_departs(client, shop, scan)
    now = utcnow()
    counts = process_outbox_job(app, now)
    assert counts.delivered == 1
    [request] = receiver.received
    header = request.headers["Silkway-Signature"]
    parts = dict(item.split("=", 1) for item in header.split(","))
    assert int(parts["t"]) == int(now.timestamp())
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected)
    body = orjson.loads(request.body)
    assert body["type"] == "status_changed" and body["id"] == request.headers["Silkway-Event-Id"]
    assert body["data"]["parcel"]["tracking_number"] == "RX747628194CN"
    assert body["data"]["parcel"]["reference"] == "ORDER-RX747628194CN"
    assert (body["data"]["parcel"]["status"], body["data"]["previous"]["status"]) == ("in_transit", "pending")


def test_changes_of_unowned_parcels_send_nothing(app, client, shop, scan, receiver):
    subscribe(client, shop)
    scan("RX747628194CN", "in_transit", "departed", ago(hours=2))
    assert process_outbox_job(app, utcnow()).claimed == 0 and receiver.attempts == []


def test_subscription_to_other_events_gets_no_status_changes(app, client, shop, scan, receiver):
    subscribe(client, shop, events=["delayed"])
    parcel_departs(client, shop, scan)
    assert process_outbox_job(app, utcnow()).claimed == 0


def test_another_merchants_changes_are_not_sent_to_me(app, client, shop, rival, scan, receiver):
    subscribe(client, shop)
    register_parcels(client, rival, "RX747628194CN")
    scan("RX747628194CN", "in_transit", "departed", ago(hours=2))
    assert process_outbox_job(app, utcnow()).claimed == 0


def run_until(app: Flask, start: datetime, end: datetime, step: timedelta) -> None:
    now = start
    while now <= end:
        process_outbox_job(app, now)
        now += step


def test_receiver_down_for_an_hour_gets_every_event_once_in_order_per_parcel(
    app, client, shop, scan, receiver
):
    subscribe(client, shop)
    numbers = ["RX000000001CN", "RX000000002CN", "RX000000003CN"]
    register_parcels(client, shop, *numbers)
    base = ago(days=3)
    for step, (status, substatus) in enumerate(JOURNEY):
        for number in numbers:
            scan(number, status, substatus, base + timedelta(hours=step))
    start = utcnow()
    receiver.fail_until = start + timedelta(hours=1)
    run_until(app, start, start + timedelta(hours=2), timedelta(minutes=1))

    events = receiver.events()
    ids = [e["id"] for e in events]
    assert len(ids) == len(set(ids)) == len(numbers) * len(JOURNEY)
    for number in numbers:
        seen = [
            e["data"]["parcel"]["substatus"]
            for e in events
            if e["data"]["parcel"]["tracking_number"] == number
        ]
        assert seen == [substatus for _, substatus in JOURNEY]
    assert all(r.at >= receiver.fail_until for r in receiver.received)
    assert len(receiver.attempts) > len(receiver.received)


def test_later_event_of_a_parcel_waits_for_the_earlier_one(app, client, shop, scan, receiver):
    subscribe(client, shop)
    register_parcels(client, shop, "RX000000001CN", "RX000000002CN")
    base = ago(days=1)
    scan("RX000000001CN", "in_transit", "picked_up", base)
    scan("RX000000001CN", "in_transit", "departed", base + timedelta(hours=1))
    scan("RX000000002CN", "in_transit", "picked_up", base)
    start = utcnow()
    receiver.fail_until = start + timedelta(seconds=1)
    process_outbox_job(app, start)
    assert len(receiver.attempts) == 2  # the first event of each parcel, not the second of the first
    process_outbox_job(app, start + timedelta(minutes=1))
    process_outbox_job(app, start + timedelta(minutes=2))
    substatuses = [e["data"]["parcel"]["substatus"] for e in receiver.events()]
    assert sorted(substatuses) == ["departed", "picked_up", "picked_up"]
    first = [
        e["data"]["parcel"]["substatus"]
        for e in receiver.events()
        if "RX000000001CN" in e["data"]["parcel"]["identifiers"]
    ]
    assert first == ["picked_up", "departed"]


def test_delivery_log_lists_every_attempt_newest_first(app, client, shop, scan, receiver):
    hook = subscribe(client, shop)
    parcel_departs(client, shop, scan)
    start = utcnow()
    receiver.fail_until = start + timedelta(minutes=1)
    run_until(app, start, start + timedelta(minutes=5), timedelta(seconds=30))
    resp = client.get(f"{HOOKS}/{hook['id']}/deliveries", headers=shop)
    assert resp.status_code == 200
    log = resp.get_json()["deliveries"]
    assert [d["status_code"] for d in log] == [200, 503, 503]
    assert [d["attempt"] for d in log] == [3, 2, 1]
    assert {d["event_id"] for d in log} == {log[0]["event_id"]} and log[0]["state"] == "delivered"
    assert log[1]["succeeded"] is False and "503" in log[1]["error"]
    page = client.get(f"{HOOKS}/{hook['id']}/deliveries?limit=2", headers=shop).get_json()
    rest = client.get(f"{HOOKS}/{hook['id']}/deliveries?limit=2&cursor={page['next_cursor']}", headers=shop)
    assert [d["attempt"] for d in page["deliveries"] + rest.get_json()["deliveries"]] == [3, 2, 1]


def test_retries_back_off_exponentially_and_give_up_after_a_day(app, client, shop, scan, receiver):
    hook = subscribe(client, shop)
    parcel_departs(client, shop, scan)
    start = utcnow()
    receiver.fail_until = start + timedelta(days=30)
    run_until(app, start, start + timedelta(minutes=20), timedelta(seconds=30))
    run_until(app, start + timedelta(minutes=30), start + timedelta(hours=25), timedelta(minutes=10))
    times = [r.at for r in receiver.attempts]
    gaps = [round((b - a).total_seconds()) for a, b in itertools.pairwise(times)]
    assert gaps[:5] == [30, 60, 120, 240, 480]
    assert gaps[-5:] == [3600] * 5
    assert times[-1] - start >= timedelta(hours=24)
    log = client.get(f"{HOOKS}/{hook['id']}/deliveries?limit=1", headers=shop).get_json()["deliveries"]
    assert log[0]["state"] == "failed" and log[0]["attempt"] == len(times)
    assert process_outbox_job(app, start + timedelta(days=3)).claimed == 0


def test_stalled_parcel_sends_a_delayed_event(app, client, shop, scan, receiver):
    subscribe(client, shop, events=["delayed"])
    register_parcels(client, shop, "RX747628194CN")
    scan("RX747628194CN", "in_transit", "departed", ago(days=9))
    assert stalled_parcels_job(app, utcnow()) != []
    assert stalled_parcels_job(app, utcnow()) == []  # flagged once, announced once
    process_outbox_job(app, utcnow())
    [event] = receiver.events()
    assert event["type"] == "delayed" and event["data"]["parcel"]["delayed"] is True
    assert event["data"]["delay"]["usual_hours"] == 168.0


def test_merchant_cannot_see_or_delete_another_merchants_webhook(client, shop, rival):
    hook = subscribe(client, rival)
    assert client.get(f"{HOOKS}/{hook['id']}/deliveries", headers=shop).status_code == 404
    assert client.delete(f"{HOOKS}/{hook['id']}", headers=shop).status_code == 404
    assert client.get(HOOKS, headers=shop).get_json()["webhooks"] == []
    assert [w["id"] for w in client.get(HOOKS, headers=rival).get_json()["webhooks"]] == [hook["id"]]


def test_carrier_key_cannot_manage_webhooks(client, make_key):
    carrier = bearer(make_key("carrier", "acme_post"))
    assert client.post(HOOKS, json={"url": RECEIVER}, headers=carrier).status_code == 403
    assert client.get(HOOKS).status_code == 401


def test_deleted_webhook_sends_nothing_more(app, client, shop, scan, receiver):
    hook = subscribe(client, shop)
    parcel_departs(client, shop, scan)
    assert client.delete(f"{HOOKS}/{hook['id']}", headers=shop).status_code == 204
    assert process_outbox_job(app, utcnow()).claimed == 0
    assert client.get(HOOKS, headers=shop).get_json()["webhooks"] == []
    assert client.get(f"{HOOKS}/{hook['id']}/deliveries", headers=shop).status_code == 404


class SlowSender:
    """A receiver that takes a moment to answer, so that two processors overlap."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ids: list[str] = []

    def send(self, request: WebhookRequest) -> SendResult:
        time.sleep(0.01)
        with self.lock:
            self.ids.append(request.headers["Silkway-Event-Id"])
        return SendResult(200)


def test_two_processors_at_once_send_each_event_once(app, client, shop, scan):
    subscribe(client, shop)
    numbers = [f"RX{i:09d}CN" for i in range(12)]
    register_parcels(client, shop, *numbers)
    for number in numbers:
        scan(number, "in_transit", "departed", ago(hours=2))
    sender = SlowSender()
    now = utcnow()
    db = app.extensions["silkway.db"]

    def work() -> None:
        with db.session() as session:
            while process_outbox(session, sender, now, batch=3).claimed:
                pass

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(sender.ids) == len(set(sender.ids)) == len(numbers)


class Receiver(BaseHTTPRequestHandler):
    """A merchant's endpoint on this machine: records each POST; /moved answers with a redirect."""

    received: list[tuple[str, dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append((self.path, dict(self.headers), body))
        if self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/hooks")
        else:
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def http_receiver() -> Iterator[str]:
    Receiver.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def deliver_once(
    app: Flask, client: FlaskClient, shop: dict[str, str], scan: Callable[..., None], url: str
) -> Any:
    app.config["WEBHOOK_SENDER"] = "urllib"
    hook = subscribe(client, shop, url=url)
    parcel_departs(client, shop, scan)
    process_outbox_job(app, utcnow())
    return hook


def test_real_sender_posts_signed_json_to_the_receiver(app, client, shop, scan, http_receiver):
    hook = deliver_once(app, client, shop, scan, http_receiver + "/hooks")
    [(path, headers, body)] = Receiver.received
    assert path == "/hooks" and headers["Content-Type"] == "application/json"
    t, v1 = (part.split("=", 1)[1] for part in headers["Silkway-Signature"].split(","))
    assert v1 == hmac.new(hook["secret"].encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    log = client.get(f"{HOOKS}/{hook['id']}/deliveries", headers=shop).get_json()["deliveries"]
    assert log[0]["status_code"] == 204 and log[0]["succeeded"] is True


def test_real_sender_does_not_follow_redirects(app, client, shop, scan, http_receiver):
    hook = deliver_once(app, client, shop, scan, http_receiver + "/moved")
    assert [path for path, _, _ in Receiver.received] == ["/moved"]
    log = client.get(f"{HOOKS}/{hook['id']}/deliveries", headers=shop).get_json()["deliveries"]
    assert log[0]["status_code"] == 302 and log[0]["succeeded"] is False and log[0]["state"] == "pending"


def test_real_sender_refuses_a_target_that_resolves_privately_at_send_time(
    app, client, shop, scan, http_receiver
):
    hook = subscribe(client, shop, url=http_receiver + "/hooks")
    app.config.update(WEBHOOK_SENDER="urllib", ALLOW_PRIVATE_WEBHOOK_TARGETS=False)
    parcel_departs(client, shop, scan)
    process_outbox_job(app, utcnow())
    assert Receiver.received == []
    log = client.get(f"{HOOKS}/{hook['id']}/deliveries", headers=shop).get_json()["deliveries"]
    assert "private address" in log[0]["error"] and log[0]["status_code"] is None


def test_finished_messages_and_their_log_are_forgotten_after_the_retention_days(
    app, client, shop, scan, receiver
):
    from sqlalchemy import func, select

    from tracking import models
    from web.worker.jobs import all_jobs
    from web.worker.scheduler import run_job

    hook = subscribe(client, shop)
    parcel_departs(client, shop, scan)
    start = utcnow()
    run_until(app, start, start + timedelta(minutes=1), timedelta(seconds=30))
    register_parcels(client, shop, "RX000000001CN")
    scan("RX000000001CN", "in_transit", "departed", ago(hours=1))  # announced, never sent: stays pending
    log_url = f"{HOOKS}/{hook['id']}/deliveries"
    assert len(client.get(log_url, headers=shop).get_json()["deliveries"]) == 1
    retention = next(job for job in all_jobs(app) if job.name == "retention")
    assert run_job(app, retention, start + timedelta(days=29)) == "ran"
    assert len(client.get(log_url, headers=shop).get_json()["deliveries"]) == 1
    assert run_job(app, retention, start + timedelta(days=31)) == "ran"
    assert client.get(log_url, headers=shop).get_json()["deliveries"] == []
    with app.app_context():
        session = app.extensions["silkway.db"].session()
        states = session.execute(
            select(models.OutboxMessage.state, func.count()).group_by(models.OutboxMessage.state)
        ).all()
        ticks = session.scalar(select(func.count()).select_from(models.JobTick))
        session.close()
    assert dict(states) == {"pending": 1}
    assert ticks == 1  # the first pass's tick went with the second; the second's own remains
