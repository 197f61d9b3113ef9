"""A local CDEK API v2 for tests: OAuth client credentials, webhook subscriptions, orders by CDEK number.

Written from CDEK's API v2 documentation (api-docs.cdek.ru: "Авторизация", "Подписка на вебхуки",
"Информация о заказе"):

- ``POST /v2/oauth/token`` with the form ``grant_type=client_credentials``, ``client_id``,
  ``client_secret``: 200 ``{"access_token", "token_type": "bearer", "expires_in": 3600, "scope":
  "order:all payment:all", "jti"}``; wrong credentials: 401 ``{"error": "invalid_client"}``.
- Every other call needs ``Authorization: Bearer <a token it issued and not expired>``, else 401.
- ``GET /v2/webhooks``: the subscriptions ``[{"uuid", "type", "url"}]``; ``POST /v2/webhooks`` ``{"url",
  "type"}``: 200 ``{"entity": {"uuid"}, "requests": [{"request_uuid", "type": "CREATE", "state":
  "ACCEPTED", ...}]}``.
- ``GET /v2/orders?cdek_number=<n>``: 200 ``{"entity": {..., "cdek_number", "statuses": [{"code", "name",
  "date_time", "city"}]}, "requests": []}``; unknown: 400 with ``requests[0].errors[0].code``
  ``v2_entity_not_found``.

    server, base_url = start_fake_cdek("client-id", "client-secret")
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.json_server import StateServer, read_body, send_json, start, stop


@dataclass
class CdekState:
    """The account: its credentials, tokens issued, subscriptions, orders by CDEK number, requests seen."""

    client_id: str
    client_secret: str
    token_seconds: int = 3600
    tokens: dict[str, float] = field(default_factory=dict)
    webhooks: list[dict[str, str]] = field(default_factory=list)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    seen: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def paths(self, method: str, start: str = "") -> list[str]:
        with self.lock:
            return [p for m, p in self.seen if m == method and p.startswith(start)]


def _not_found(number: str) -> dict[str, Any]:
    error = {"code": "v2_entity_not_found", "message": f"Entity is not found by cdek_number {number}"}
    return {
        "requests": [
            {"request_uuid": str(uuid.uuid4()), "type": "GET", "state": "INVALID", "errors": [error]}
        ]
    }


class _Handler(BaseHTTPRequestHandler):
    server: FakeCdekServer

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        state = self.server.state
        parts = urlsplit(self.path)
        raw = (
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if parts.path.endswith("/token")
            else b""
        )
        with state.lock:
            state.seen.append((method, self.path))
            if method == "POST" and parts.path == "/v2/oauth/token":
                self._token(state, parse_qs(raw.decode() or parts.query))
                return
            bearer = self.headers.get("Authorization", "").removeprefix("Bearer ")
            if state.tokens.get(bearer, 0.0) < time.monotonic():
                send_json(
                    self, 401, {"requests": [{"state": "INVALID", "errors": [{"code": "v2_unauthorized"}]}]}
                )
                return
            if parts.path == "/v2/webhooks" and method == "GET":
                send_json(self, 200, list(state.webhooks))  # type: ignore[arg-type]
            elif parts.path == "/v2/webhooks" and method == "POST":
                body = read_body(self) or {}
                hook = {"uuid": str(uuid.uuid4()), "type": str(body.get("type")), "url": str(body.get("url"))}
                state.webhooks.append(hook)
                request = {
                    "request_uuid": str(uuid.uuid4()),
                    "type": "CREATE",
                    "state": "ACCEPTED",
                    "errors": [],
                }
                send_json(self, 200, {"entity": {"uuid": hook["uuid"]}, "requests": [request]})
            elif parts.path == "/v2/orders" and method == "GET":
                number = parse_qs(parts.query).get("cdek_number", [""])[0]
                order = state.orders.get(number)
                if order is None:
                    send_json(self, 400, _not_found(number))
                else:
                    send_json(self, 200, {"entity": order, "requests": []})
            else:
                send_json(
                    self, 404, {"requests": [{"state": "INVALID", "errors": [{"code": "v2_not_found"}]}]}
                )

    def _token(self, state: CdekState, form: dict[str, list[str]]) -> None:
        given = {key: values[0] for key, values in form.items()}
        if given.get("grant_type") != "client_credentials" or (
            given.get("client_id"),
            given.get("client_secret"),
        ) != (
            state.client_id,
            state.client_secret,
        ):
            send_json(self, 401, {"error": "invalid_client", "error_description": "Bad credentials"})
            return
        token = uuid.uuid4().hex
        state.tokens[token] = time.monotonic() + state.token_seconds
        send_json(
            self,
            200,
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": state.token_seconds,
                "scope": "order:all payment:all",
                "jti": uuid.uuid4().hex,
            },
        )

    def log_message(self, format: str, *args: Any) -> None:
        return


class FakeCdekServer(StateServer):
    """The HTTP server; ``state`` is the account."""

    state: CdekState


def start_fake_cdek(client_id: str, client_secret: str) -> tuple[FakeCdekServer, str]:
    """Serve a CDEK account on 127.0.0.1 in a background thread; the server and its base URL."""
    server = FakeCdekServer(0, _Handler, CdekState(client_id, client_secret))
    return server, start(server, "fake-cdek", "")


def stop_fake_cdek(server: FakeCdekServer) -> None:
    """Stop serving and close the listening socket."""
    stop(server)
