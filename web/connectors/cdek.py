"""CDEK API v2: OAuth client credentials, the ORDER_STATUS webhook subscription, an order's statuses pulled.

- ``POST {base}/v2/oauth/token`` with the form ``grant_type=client_credentials&client_id=..&client_secret=..``
  answers ``{"access_token", "token_type": "bearer", "expires_in", ...}``; the token is kept until a minute
  before it expires, and asked again once when a call answers 401.
- ``GET {base}/v2/webhooks`` lists the account's subscriptions; when ``CDEK_WEBHOOK_URL`` is set and no
  ``ORDER_STATUS`` subscription has that URL, ``POST {base}/v2/webhooks`` ``{"url", "type":
  "ORDER_STATUS"}`` makes one (once per process).
- ``GET {base}/v2/orders?cdek_number=<n>`` answers ``{"entity": {"cdek_number", "statuses": [...]},
  "requests": [...]}``: stored as a payload of the carrier ``cdek`` (its adapter reads it), the number
  polled again every CDEK_POLL_SECONDS until its parcel arrives, so a webhook CDEK never sent is not a
  scan lost. An order CDEK does not know is answered with ``requests[].errors[]`` (``v2_entity_not_found``):
  the number is rejected with that code.

From CDEK's API v2 documentation (api-docs.cdek.ru: "Авторизация", "Подписка на вебхуки", "Информация о
заказе"); every call carries ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, urlencode

import orjson

from tracking.connectors import Answer
from web.connectors.settings import ConnectorConfig
from web.connectors.track17 import ConnectorFailed, Item
from web.feeds.client import FeedClient, FetchFailed


class Cdek:
    """The CDEK connector over the shared HTTP client (its own token bucket, named ``cdek``)."""

    name = "cdek"
    batch = 1
    quota_codes: tuple[str, ...] = ()
    payload_carrier: str | None = "cdek"

    def __init__(
        self,
        config: ConnectorConfig,
        client: FeedClient,
        secret: str,
        webhook_url: str | None,
        poll_seconds: float,
    ) -> None:
        self.config, self.client, self.secret = config, client, secret
        self.webhook_url, self.poll_seconds = webhook_url, poll_seconds
        self.token: str | None = None
        self.token_until = 0.0
        self.subscribed = webhook_url is None

    def quota(self) -> int | None:
        """No quota call."""
        return None

    def call(self, call: str, items: Sequence[Item]) -> list[Answer]:
        """``register``, ``poll`` and ``changecarrier`` pull the order now; ``stop`` ends polling."""
        if call == "stop":
            return [Answer(i.number, "stopped", None, None, "polling stopped") for i in items]
        self._subscribe()
        return [self._order(item.number) for item in items]

    def _order(self, number: str) -> Answer:
        try:
            raw = self._get(f"/v2/orders?cdek_number={quote(number, safe='')}")
        except FetchFailed as exc:
            if exc.status not in (400, 404):
                raise ConnectorFailed(str(exc)) from None
            code, message = _first_error(exc.body)
            return Answer(number, "rejected", None, code or str(exc.status), message)
        statuses = _load(raw).get("entity", {}).get("statuses") or []
        message = f"pulled: {len(statuses)} statuses"
        return Answer(number, "registered", None, None, message, self.poll_seconds, "poll", raw)

    def _subscribe(self) -> None:
        if self.subscribed:
            return
        listed = _load(self._get("/v2/webhooks"), allow_list=True)
        hooks = listed if isinstance(listed, list) else []
        if not any(
            isinstance(h, dict) and h.get("type") == "ORDER_STATUS" and h.get("url") == self.webhook_url
            for h in hooks
        ):
            body = orjson.dumps({"url": self.webhook_url, "type": "ORDER_STATUS"})
            self._authorized("/v2/webhooks", body)
        self.subscribed = True

    def _get(self, path: str) -> bytes:
        return self._authorized(path, None)

    def _authorized(self, path: str, body: bytes | None) -> bytes:
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {self._token()}", "Content-Type": "application/json"}
            try:
                return self.client.fetch(self.name, self.config.url + path, body, headers)
            except FetchFailed as exc:
                if exc.status != 401 or attempt == 2:
                    raise
                self.token = None  # expired or revoked early: ask for a new one, once
        raise AssertionError("unreachable")

    def _token(self) -> str:
        if self.token is not None and time.monotonic() < self.token_until:
            return self.token
        form = urlencode(
            {"grant_type": "client_credentials", "client_id": self.config.key, "client_secret": self.secret}
        ).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        try:
            raw = self.client.fetch(self.name, self.config.url + "/v2/oauth/token", form, headers)
        except FetchFailed as exc:
            raise ConnectorFailed(f"CDEK refused the client credentials: {exc}") from None
        doc = _load(raw)
        token, expires = doc.get("access_token"), doc.get("expires_in")
        if not isinstance(token, str) or not isinstance(expires, int):
            raise ConnectorFailed("CDEK's token answer has no access_token and expires_in")
        self.token, self.token_until = token, time.monotonic() + max(0, expires - 60)
        return token


def _load(raw: bytes, allow_list: bool = False) -> Any:
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ConnectorFailed("CDEK's answer is not JSON") from None
    if isinstance(doc, dict) or (allow_list and isinstance(doc, list)):
        return doc
    raise ConnectorFailed("CDEK's answer is not an object")


def _first_error(raw: bytes) -> tuple[str | None, str | None]:
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None, None
    for request in doc.get("requests") or [] if isinstance(doc, dict) else []:
        for error in request.get("errors") or [] if isinstance(request, dict) else []:
            if isinstance(error, dict):
                return str(error.get("code") or "") or None, str(error.get("message") or "")[:400] or None
    return None, None
