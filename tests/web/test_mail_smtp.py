"""web/mail/smtp.py and the job without a server: the SMTP_URL forms, a refusal for good against one to
retry (never with the address in the error), and one log line when no server is configured."""

from __future__ import annotations

import logging
from email.message import EmailMessage
from typing import Any

import pytest
from flask import Flask

from tests.support.smtp_sink import Inbox, SmtpSink
from tracking.types import utcnow
from web.mail.smtp import Outcome, SmtpServer, SmtpUrlError, parse_url, send_all
from web.worker.mail_jobs import notifications_job


@pytest.mark.parametrize(
    ("url", "server"),
    [
        ("smtp://127.0.0.1:2525", SmtpServer("127.0.0.1", 2525, tls=False, starttls=False)),
        ("smtp://relay", SmtpServer("relay", 25, tls=False, starttls=False)),
        (
            "smtp+starttls://news%40shop:p%3Ass@mail.example:587",
            SmtpServer("mail.example", 587, tls=False, starttls=True, user="news@shop", password="p:ss"),
        ),
        (
            "smtps://u:p@mail.example",
            SmtpServer("mail.example", 465, tls=True, starttls=False, user="u", password="p"),
        ),
    ],
)
def test_the_smtp_url_names_host_port_security_and_login(url: str, server: SmtpServer) -> None:
    assert parse_url(url) == server


@pytest.mark.parametrize("url", ["http://mail.example", "smtp://", "smtp://host:port", "mail.example:25"])
def test_a_wrong_smtp_url_is_refused(url: str) -> None:
    with pytest.raises(SmtpUrlError):
        parse_url(url)


class Refusing(Inbox):
    """Refuses one recipient for good (550) and another for now (451)."""

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.startswith("gone"):
            return f"550 5.1.1 <{address}>: no such user"
        if address.startswith("full"):
            return f"451 4.2.2 <{address}>: mailbox full, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def message(to: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "news@silkway.test", to, "hello"
    mail.set_content("hello")
    return mail


def test_refusals_are_told_apart_and_never_carry_the_address() -> None:
    sink = SmtpSink()
    sink.inbox = Refusing()
    sink.start()
    try:
        outcomes = send_all(
            parse_url(sink.url),
            [message("gone@example.org"), message("full@example.org"), message("ok@example.org")],
        )
    finally:
        sink.stop()
    assert [(o.sent, o.permanent) for o in outcomes] == [(False, True), (False, False), (True, False)]
    assert all("example.org" not in o.error for o in outcomes)
    assert [m["To"] for m in sink.inbox.messages] == ["ok@example.org"]


def test_an_unreachable_server_fails_every_message_to_be_retried() -> None:
    sink = SmtpSink()  # never started
    outcomes = send_all(parse_url(sink.url), [message("a@example.org"), message("b@example.org")])
    assert outcomes == [Outcome(False, outcomes[0].error)] * 2
    assert "unavailable" in outcomes[0].error and not outcomes[0].permanent


def test_without_smtp_url_the_job_sends_nothing_and_says_so_once(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="silkway.notifications"), app.app_context():
        for _ in range(3):
            assert notifications_job(app, utcnow()).claimed == 0
    said = [r.getMessage() for r in caplog.records if r.name == "silkway.notifications"]
    assert len(said) == 1 and "SILKWAY_SMTP_URL is not set" in said[0]
