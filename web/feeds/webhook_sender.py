"""Sending webhook requests: a urllib sender for production and a recording fake for tests and demos.

``sender_for(app)`` picks one by the WEBHOOK_SENDER setting (``urllib``, the default, or ``fake``), so
tests choose the fake through configuration. The real sender re-checks the target's addresses right
before each request (a host may be re-pointed at a private address after subscribing) and never
follows redirects.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

from tracking.webhook_delivery import Sender, SendResult, WebhookRequest
from tracking.webhooks import is_public_address


def resolve_host(host: str, port: int) -> list[str]:
    """Every IP address ``host`` resolves to (raises OSError when it does not resolve)."""
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)})


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass(slots=True)
class UrllibSender:
    """POSTs with urllib: a timeout, no redirects, public addresses only unless allowed."""

    timeout: float = 10.0
    allow_private: bool = False

    def send(self, request: WebhookRequest) -> SendResult:
        """POST the request; a 3xx, 4xx or 5xx answer or a network error is a failed attempt."""
        started = time.monotonic()
        parts = urlsplit(request.url)
        if not self.allow_private:
            try:
                port = parts.port or (443 if parts.scheme == "https" else 80)
                addresses = resolve_host(parts.hostname or "", port)
            except (OSError, ValueError, UnicodeError):
                return SendResult(None, f"the host {parts.hostname!r} does not resolve")
            private = [a for a in addresses if not is_public_address(a)]
            if private:
                return SendResult(None, f"refused: the host now resolves to a private address ({private[0]})")
        opener = urllib.request.build_opener(_NoRedirects)
        outgoing = urllib.request.Request(  # noqa: S310 - the scheme was checked when subscribing
            request.url, data=request.body, headers=request.headers, method="POST"
        )
        try:
            with opener.open(outgoing, timeout=self.timeout) as answer:
                answer.read(65536)
                status = int(answer.status)
        except urllib.error.HTTPError as exc:
            status = exc.code
            exc.close()
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            return SendResult(None, f"{type(exc).__name__}: {reason}"[:500], _ms(started))
        return SendResult(status, None, _ms(started))


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


@dataclass(slots=True)
class FakeSender:
    """Records requests instead of sending them; answers ``failing_status`` before ``fail_until``."""

    fail_until: datetime | None = None
    failing_status: int = 503
    attempts: list[WebhookRequest] = field(default_factory=list)
    received: list[WebhookRequest] = field(default_factory=list)

    def send(self, request: WebhookRequest) -> SendResult:
        """Answer 200 (and keep the request as received) unless told to fail at this time."""
        self.attempts.append(request)
        if self.fail_until is not None and request.at < self.fail_until:
            return SendResult(self.failing_status, None)
        self.received.append(request)
        return SendResult(200, None)

    def events(self) -> list[dict[str, Any]]:
        """The bodies received, parsed, in the order they arrived."""
        return [json.loads(r.body) for r in self.received]


def sender_for(app: Flask) -> Sender:
    """The app's sender, chosen by WEBHOOK_SENDER (``urllib`` or ``fake``) and kept for the app's life."""
    sender: Sender | None = app.extensions.get("silkway.webhook_sender")
    if sender is None:
        kind = app.config.get("WEBHOOK_SENDER", "urllib")
        if kind == "fake":
            sender = FakeSender()
        elif kind == "urllib":
            sender = UrllibSender(
                timeout=float(app.config.get("WEBHOOK_TIMEOUT_SECONDS", 10)),
                allow_private=bool(app.config.get("ALLOW_PRIVATE_WEBHOOK_TARGETS", False)),
            )
        else:
            raise ValueError(f"WEBHOOK_SENDER must be 'urllib' or 'fake', not {kind!r}")
        app.extensions["silkway.webhook_sender"] = sender
    return sender
