"""Sending mail through the SMTP server ``SMTP_URL`` names, with the standard library's smtplib.

``smtp://host:port`` (plain, for a relay on the same machine), ``smtp+starttls://user:pass@host:587``
(STARTTLS, then login), ``smtps://user:pass@host:465`` (TLS from the start). One connection per batch;
each message's outcome is reported on its own, and an error never carries a recipient's address.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

SCHEMES = {"smtp": (25, False, False), "smtp+starttls": (587, False, True), "smtps": (465, True, False)}
TIMEOUT = 20.0


class SmtpUrlError(ValueError):
    """``SMTP_URL`` is not one of the forms above."""


@dataclass(frozen=True, slots=True)
class SmtpServer:
    """Where and how to send: host, port, TLS from the start or STARTTLS, and the login if any."""

    host: str
    port: int
    tls: bool
    starttls: bool
    user: str | None = None
    password: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """One message's fate: sent, or an error (``permanent`` for a 5xx refusal) without the address."""

    sent: bool
    error: str = ""
    permanent: bool = False


def parse_url(url: str) -> SmtpServer:
    """The server an ``SMTP_URL`` names."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise SmtpUrlError("SMTP_URL is not a valid URL") from None
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise SmtpUrlError(f"SMTP_URL must be {', '.join(s + '://host:port' for s in SCHEMES)}")
    default_port, tls, starttls = SCHEMES[parts.scheme]
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return SmtpServer(parts.hostname, port or default_port, tls, starttls, user, password)


def _connect(server: SmtpServer) -> smtplib.SMTP:
    context = ssl.create_default_context()
    if server.tls:
        connection: smtplib.SMTP = smtplib.SMTP_SSL(
            server.host, server.port, timeout=TIMEOUT, context=context
        )
    else:
        connection = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT)
        if server.starttls:
            connection.starttls(context=context)
    if server.user:
        connection.login(server.user, server.password or "")
    return connection


def _refusal(exc: smtplib.SMTPException) -> Outcome:
    """What a refusal of one message says, without the address (the server's text may repeat it)."""
    code = getattr(exc, "smtp_code", None)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [answer[0] for answer in exc.recipients.values()]
        code = codes[0] if codes else None
    label = f"{type(exc).__name__} {code}" if code else type(exc).__name__
    return Outcome(False, f"the server refused the message: {label}", isinstance(code, int) and code >= 500)


def send_all(server: SmtpServer, messages: Sequence[EmailMessage]) -> list[Outcome]:
    """Send each message over one connection; an unreachable server fails them all (to be retried)."""
    try:
        connection = _connect(server)
    except (OSError, smtplib.SMTPException) as exc:
        return [Outcome(False, f"the mail server is unavailable: {type(exc).__name__}")] * len(messages)
    outcomes: list[Outcome] = []
    try:
        for message in messages:
            try:
                connection.send_message(message)
                outcomes.append(Outcome(True))
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
                outcomes.append(_refusal(exc))
            except (OSError, smtplib.SMTPException) as exc:
                error = f"the connection failed while sending: {type(exc).__name__}"
                outcomes += [Outcome(False, error)] * (len(messages) - len(outcomes))
                break
    finally:
        try:
            connection.quit()
        except (OSError, smtplib.SMTPException):
            connection.close()
    return outcomes
