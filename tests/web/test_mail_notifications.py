"""Shoppers' mail notifications end to end: through HTTP and a real SMTP server (aiosmtpd on 127.0.0.1),
with the scheduler's jobs run at chosen instants; on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import bearer
from tests.support.smtp_sink import SmtpSink
from tests.web.support import ago, parcel, post_scan
from tracking.mail_outbox import COALESCE
from tracking.types import utcnow
from web.worker.mail_jobs import MailCounts, notifications_job
from web.worker.merchant_jobs import stalled_parcels_job

NUMBER = "RX747628194CN"
ADDRESS = "Li.Wei+parcels@Example.org"
STORED = "Li.Wei+parcels@example.org"
PUBLIC = "https://track.example.test"
MOSCOW = {"name": "Moscow", "country": "RU"}
LATER = COALESCE + timedelta(seconds=5)


class Captured(logging.Handler):
    """Every log line of the app, formatted, at every level (not the test SMTP server's own, "mail.log",
    which is the receiving end)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("mail.log"):
            return
        self.lines.append(self.format(record) + repr(record.args) + repr(record.__dict__.get("extra")))


@pytest.fixture
def logs() -> Iterator[Captured]:
    handler = Captured()
    loggers = [logging.getLogger(), logging.getLogger("silkway"), logging.getLogger("werkzeug")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    yield handler
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def mail_app(app: Flask, smtp: SmtpSink) -> Flask:
    app.config.update(SMTP_URL=smtp.url, PUBLIC_URL=PUBLIC, MAIL_FROM="Silkway <news@silkway.test>")
    return app


@pytest.fixture
def scan(client: FlaskClient, make_key: Callable[..., str]) -> Callable[..., None]:
    headers = bearer(make_key("carrier", "acme_post"))

    def _scan(number: str, status: str, substatus: str, at: datetime, **extra: object) -> None:
        post_scan(client, headers, number, status, substatus, at=at, **extra)

    return _scan


def run_mail(app: Flask, at: datetime) -> MailCounts:
    with app.app_context():
        return notifications_job(app, at)


def local_path(url: str) -> str:
    """The path and query of a link in a mail, to follow it with the test client."""
    assert url.startswith(PUBLIC + "/"), url
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def html_of(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())


def link(message: EmailMessage, kind: str) -> str:
    found = re.search(
        rf"{re.escape(PUBLIC)}/subscriptions/[A-Za-z0-9_-]+/{kind}\?lang=[a-z]+", text_of(message)
    )
    assert found, text_of(message)
    return found.group(0)


def subscribe_confirmed(
    client: FlaskClient, app: Flask, smtp: SmtpSink, number: str = NUMBER, language: str = "zh"
) -> EmailMessage:
    """Subscribe through the API, receive the confirmation, follow its link; the confirmation mail."""
    resp = client.post(
        f"/api/v1/parcels/{number}/subscriptions", json={"email": ADDRESS, "language": language}
    )
    assert resp.status_code == 202, resp.get_json()
    assert run_mail(app, utcnow()).sent == 1
    (confirmation,) = smtp.inbox.take()
    page = client.get(local_path(link(confirmation, "confirm")))
    assert page.status_code == 200
    return confirmation


def test_subscribe_confirm_and_one_mail_for_ready_to_collect_in_the_subscribers_language(
    mail_app: Flask, client: FlaskClient, smtp: SmtpSink, scan: Callable[..., None]
) -> None:
    scan(NUMBER, "in_transit", "departed", ago(days=3))
    first = client.post(f"/api/v1/parcels/{NUMBER}/subscriptions", json={"email": ADDRESS, "language": "zh"})
    again = client.post(f"/api/v1/parcels/{NUMBER}/subscriptions", json={"email": ADDRESS, "language": "zh"})
    assert first.status_code == again.status_code == 202
    assert first.get_data() == again.get_data()  # the same answer, already subscribed or not
    scan(NUMBER, "out_for_delivery", "courier", ago(days=2))  # before confirming: never mailed
    assert run_mail(mail_app, utcnow() + LATER).sent == 1
    (confirmation,) = smtp.inbox.take()
    assert confirmation["To"] == STORED
    assert confirmation["Subject"] == f"请确认订阅包裹 {NUMBER} 的动态"
    assert confirmation["List-Unsubscribe"] == f"<{link(confirmation, 'unsubscribe')}>"
    confirmed = client.get(local_path(link(confirmation, "confirm")))
    assert confirmed.status_code == 200 and "订阅已确认" in confirmed.get_data(as_text=True)

    scan(NUMBER, "available_for_pickup", "post_office", ago(hours=1), location=MOSCOW)
    assert run_mail(mail_app, utcnow()).claimed == 0  # waits out the window for more news
    assert run_mail(mail_app, utcnow() + LATER).sent == 1
    assert run_mail(mail_app, utcnow() + 2 * LATER).claimed == 0
    (mail,) = smtp.inbox.take()
    assert mail["Subject"] == f"包裹 {NUMBER} 可以取件了"
    assert mail["Content-Language"] == "zh" and mail["To"] == STORED
    assert "您的包裹正等待您取件。" in text_of(mail) and "最新位置：Moscow。" in text_of(mail)
    assert f'href="{PUBLIC}/track/{NUMBER}?lang=zh"' in html_of(mail)
    unsubscribe = link(mail, "unsubscribe")
    assert mail["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe in html_of(mail)

    asked = client.get(local_path(unsubscribe))
    assert asked.status_code == 200 and "确定退订" in asked.get_data(as_text=True)  # a GET only asks
    one_click = client.post(local_path(unsubscribe), data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200 and "您已退订" in one_click.get_data(as_text=True)
    assert client.post(local_path(unsubscribe), data={"List-Unsubscribe": "One-Click"}).status_code == 200
    scan(NUMBER, "delivered", "recipient", ago(minutes=5))
    assert run_mail(mail_app, utcnow() + LATER).claimed == 0
    assert smtp.inbox.take() == []


def test_a_burst_of_twenty_scans_inside_the_window_sends_one_mail(
    mail_app: Flask, client: FlaskClient, smtp: SmtpSink, scan: Callable[..., None]
) -> None:
    scan(NUMBER, "in_transit", "departed", ago(days=5))
    subscribe_confirmed(client, mail_app, smtp, language="en")
    steps = [
        ("in_transit", "arrived_destination_country"),
        ("in_transit", "customs_processing"),
        ("exception", "customs_held"),
        ("in_transit", "customs_cleared"),
        ("in_transit", "in_sorting"),
    ]
    for index in range(19):
        status, substatus = steps[index % len(steps)]
        scan(NUMBER, status, substatus, ago(hours=40 - index), location=MOSCOW)
    scan(NUMBER, "out_for_delivery", "courier", ago(hours=1), location=MOSCOW)
    assert run_mail(mail_app, utcnow() + LATER).sent == 1
    assert run_mail(mail_app, utcnow() + 3 * LATER).claimed == 0
    (mail,) = smtp.inbox.take()
    assert mail["Subject"] == f"Parcel {NUMBER} is out for delivery"
    assert "A courier is bringing your parcel today." in text_of(mail)


def test_a_stalled_parcel_sends_one_delay_mail(
    mail_app: Flask, client: FlaskClient, smtp: SmtpSink, scan: Callable[..., None]
) -> None:
    scan(NUMBER, "in_transit", "departed", ago(days=9))
    subscribe_confirmed(client, mail_app, smtp, language="ru")
    now = utcnow()
    with mail_app.app_context():
        assert stalled_parcels_job(mail_app, now)
        assert stalled_parcels_job(mail_app, now + timedelta(hours=1)) == []
    assert run_mail(mail_app, now + LATER).sent == 1
    assert run_mail(mail_app, now + 3 * LATER).claimed == 0
    (mail,) = smtp.inbox.take()
    assert mail["Subject"] == f"Посылка {NUMBER} задерживается"
    assert "нет новостей уже 9 дн." in text_of(mail)


def test_the_mail_server_down_for_several_retries_then_every_mail_arrives_once(
    app: Flask, client: FlaskClient, scan: Callable[..., None]
) -> None:
    sink = SmtpSink()  # not started yet: connections are refused
    app.config.update(SMTP_URL=sink.url, PUBLIC_URL=PUBLIC)
    numbers = ["RX747628194CN", "LX299455986CN", "EE123456785CN"]
    for number in numbers:
        scan(number, "in_transit", "departed", ago(days=2))
        resp = client.post(
            f"/api/v1/parcels/{number}/subscriptions", json={"email": ADDRESS, "language": "en"}
        )
        assert resp.status_code == 202
    at = utcnow()
    for _ in range(5):
        counts = run_mail(app, at)
        assert counts.claimed == 3 and counts.retrying == 3 and counts.sent == 0
        assert run_mail(app, at + timedelta(seconds=1)).claimed == 0  # not due before its retry
        at += timedelta(minutes=10)  # past each backoff (30 s, 1, 2, 4, 8 minutes)
    sink.start()
    try:
        assert run_mail(app, at).sent == 3
        assert run_mail(app, at + timedelta(days=1)).claimed == 0
        mails = sink.inbox.take()
    finally:
        sink.stop()
    assert sorted(m["Subject"] for m in mails) == sorted(
        f"Confirm the updates on parcel {n}" for n in numbers
    )
    assert len({m["Message-ID"] for m in mails}) == 3


def test_a_bad_address_or_language_is_a_problem_naming_the_field(
    client: FlaskClient, scan: Callable[..., None]
) -> None:
    scan(NUMBER, "in_transit", "departed", ago(days=1))
    path = f"/api/v1/parcels/{NUMBER}/subscriptions"
    for body, field in (
        ({"email": "not-an-address", "language": "en"}, "email"),
        ({"language": "en"}, "email"),
        ({"email": ADDRESS, "language": "fr"}, "language"),
        (["not", "an", "object"], "body"),
    ):
        resp = client.post(path, json=body)
        assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
        assert [e["field"] for e in resp.get_json()["errors"]] == [field]
    unknown = client.post("/api/v1/parcels/LX000000000CN/subscriptions", json={"email": ADDRESS})
    assert unknown.status_code == 404


def test_the_address_is_on_no_public_page_answer_or_log_line(
    mail_app: Flask, client: FlaskClient, smtp: SmtpSink, scan: Callable[..., None], logs: Captured
) -> None:
    scan(NUMBER, "in_transit", "departed", ago(days=9))
    answers = [
        client.post(f"/api/v1/parcels/{NUMBER}/subscriptions", json={"email": ADDRESS, "language": "ru"})
    ]
    answers.append(
        client.post(f"/api/v1/parcels/{NUMBER}/subscriptions", json={"email": ADDRESS, "language": "xx"})
    )
    answers.append(client.post(f"/track/{NUMBER}/subscribe", data={"email": ADDRESS, "language": "en"}))
    run_mail(mail_app, utcnow())
    confirmation = smtp.inbox.take()[0]
    answers.append(client.get(local_path(link(confirmation, "confirm"))))
    scan(NUMBER, "available_for_pickup", "post_office", ago(hours=1), location=MOSCOW)
    with mail_app.app_context():
        stalled_parcels_job(mail_app, utcnow() + timedelta(days=30))
    run_mail(mail_app, utcnow() + LATER)
    mail = smtp.inbox.take()[0]
    for lang in ("ru", "en", "zh"):
        answers.append(client.get(f"/track/{NUMBER}?lang={lang}&subscribe=sent"))
    answers += [
        client.get(f"/api/v1/parcels/{NUMBER}"),
        client.get(f"/api/v1/parcels/{NUMBER}/eta"),
        client.get(local_path(link(mail, "unsubscribe"))),
        client.get("/metrics"),
        client.get("/api/openapi.json"),
    ]
    answers.append(client.post(local_path(link(mail, "unsubscribe")), data={"List-Unsubscribe": "One-Click"}))
    assert {a.status_code for a in answers} <= {200, 202, 303, 422}
    texts = [a.get_data(as_text=True) + str(a.headers) for a in answers] + logs.lines
    assert len(logs.lines) > 10
    for text in texts:
        for form in (ADDRESS, STORED, ADDRESS.lower(), "Li.Wei+parcels", "li.wei"):
            assert form.lower() not in text.lower()


def test_the_form_on_the_parcels_page_subscribes_and_says_so_in_the_pages_language(
    mail_app: Flask, client: FlaskClient, smtp: SmtpSink, scan: Callable[..., None]
) -> None:
    scan(NUMBER, "in_transit", "departed", ago(days=1))
    page = client.get(f"/track/{NUMBER}?lang=en").get_data(as_text=True)
    assert f'action="/track/{NUMBER}/subscribe"' in page and 'name="email"' in page
    bad = client.post(f"/track/{NUMBER}/subscribe", data={"email": "nope", "language": "en"})
    assert bad.status_code == 303 and bad.location.endswith(f"/track/{NUMBER}?subscribe=invalid#subscribe")
    assert "does not look like an e-mail address" in client.get(bad.location).get_data(as_text=True)
    done = client.post(f"/track/{NUMBER}/subscribe", data={"email": ADDRESS, "language": "en"})
    assert done.status_code == 303 and done.location.endswith("?subscribe=sent#subscribe")
    assert "Check your inbox" in client.get(done.location).get_data(as_text=True)
    assert run_mail(mail_app, utcnow()).sent == 1
    assert smtp.inbox.take()[0]["Subject"] == f"Confirm the updates on parcel {NUMBER}"


def test_a_merchant_registering_a_parcel_may_name_the_shopper_to_notify(
    mail_app: Flask, client: FlaskClient, smtp: SmtpSink, make_key: Callable[..., str]
) -> None:
    shop = bearer(make_key("merchant", "Shop One"))
    bad = client.post(
        "/api/v1/parcels", json=parcel(NUMBER, notify={"email": "nope", "language": "en"}), headers=shop
    )
    assert bad.status_code == 422
    assert [(e["index"], e["field"]) for e in bad.get_json()["errors"]] == [(0, "notify.email")]
    odd = client.post(
        "/api/v1/parcels", json=parcel(NUMBER, notify={"email": ADDRESS, "phone": "1"}), headers=shop
    )
    assert [e["field"] for e in odd.get_json()["errors"]] == ["notify.phone"]
    resp = client.post(
        "/api/v1/parcels", json=parcel(NUMBER, notify={"email": ADDRESS, "language": "ru"}), headers=shop
    )
    assert resp.status_code == 201
    assert "li.wei" not in resp.get_data(as_text=True).lower()
    assert run_mail(mail_app, utcnow()).sent == 1
    (confirmation,) = smtp.inbox.take()
    assert confirmation["To"] == STORED
    assert confirmation["Subject"] == f"Подтвердите подписку на посылку {NUMBER}"


def test_retention_deletes_the_address_once_tracking_ended_plus_the_period(
    mail_app: Flask, client: FlaskClient, scan: Callable[..., None]
) -> None:
    from sqlalchemy import select

    from tracking import models
    from web.worker.retention import prune_job

    scan(NUMBER, "delivered", "recipient", ago(days=40))
    scan("LX299455986CN", "delivered", "recipient", ago(days=3))
    for number in (NUMBER, "LX299455986CN"):
        assert (
            client.post(f"/api/v1/parcels/{number}/subscriptions", json={"email": ADDRESS}).status_code == 202
        )
    with mail_app.app_context():
        prune_job(mail_app, utcnow())
        session = mail_app.extensions["silkway.db"].session()
        left = session.scalars(select(models.MailSubscription.email)).all()
        mails = session.scalars(select(models.MailMessage.kind)).all()
        session.close()
    assert left == [STORED] and mails == ["confirm"]  # the parcel delivered 40 days ago is forgotten
