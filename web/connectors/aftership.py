"""AfterShip Tracking API (version 2024-04): create a tracking, mark it completed, change its courier.

``POST {base}/trackings`` with the header ``as-api-key: <key>`` and ``{"tracking_number", "slug"?}``
(``slug``: AfterShip's courier code, data/aftership_slugs.json; absent, AfterShip detects the courier)
answers 201 ``{"meta": {"code": 201}, "data": {"tracking": {"id", "slug", "tracking_number", ...}}}``.
Stopping is ``POST {base}/trackings/{slug}/{tracking_number}/mark-as-completed`` with ``{"reason":
"DELIVERED"}``; a courier corrected by hand is ``DELETE {base}/trackings/{slug}/{tracking_number}`` then
a new tracking with the new slug (AfterShip does not change a tracking's courier). Errors are HTTP 4xx
with ``meta.code``: 4003 tracking already exists, 4004 tracking does not exist, 4005 / 4017 invalid
tracking number, 4010 invalid slug, 4011 fields the courier needs, 4012 courier not detected; 401 an
invalid key; 429 past the rate limit (10 requests a second per organization in 2024-04). From
AfterShip's "Request Errors", "Rate limit" and "Create a tracking" pages (aftership.com/docs/tracking).
One number per call: the API creates trackings one at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any
from urllib.parse import quote

import orjson

from tracking.connectors import Answer
from web.connectors.settings import ConnectorConfig, data_table
from web.connectors.track17 import ConnectorFailed, Item
from web.feeds.client import FeedClient, FetchFailed

EXISTS, MISSING = 4003, 4004


@cache
def slugs() -> dict[str, str]:
    """Silkway carrier code → AfterShip courier slug."""
    return data_table("aftership_slugs", "slugs")


class AfterShip:
    """The AfterShip connector over the shared HTTP client (its own token bucket, named ``aftership``)."""

    name = "aftership"
    batch = 1
    quota_codes: tuple[str, ...] = ()
    payload_carrier: str | None = None

    def __init__(self, config: ConnectorConfig, client: FeedClient) -> None:
        self.config, self.client = config, client

    def quota(self) -> int | None:
        """AfterShip has no quota call: its plan's limit shows in its answers."""
        return None

    def call(self, call: str, items: Sequence[Item]) -> list[Answer]:
        """One call per item (``register``, ``changecarrier`` or ``stop``)."""
        return [self._one(call, item) for item in items]

    def _one(self, call: str, item: Item) -> Answer:
        slug = slugs().get(item.carrier or "")
        if call == "stop":
            return self._stop(item)
        if call == "changecarrier" and item.remote_carrier:
            gone = self._request("DELETE", self._path(item.remote_carrier, item.number), None)
            if gone.code not in (None, MISSING):
                return Answer(item.number, "registered", None, str(gone.code), gone.message)
        body: dict[str, Any] = {"tracking_number": item.number}
        if slug:
            body["slug"] = slug
        answer = self._request("POST", "/trackings", body)
        if answer.code is None or answer.code == EXISTS:
            return Answer(item.number, "registered", answer.slug or slug, None, answer.message or "created")
        return Answer(item.number, "rejected", None, str(answer.code), answer.message)

    def _stop(self, item: Item) -> Answer:
        slug = item.remote_carrier or slugs().get(item.carrier or "")
        if not slug:
            return Answer(item.number, "stopped", None, None, "never registered with a courier")
        answer = self._request(
            "POST", self._path(slug, item.number) + "/mark-as-completed", {"reason": "DELIVERED"}
        )
        if answer.code in (None, MISSING):
            return Answer(item.number, "stopped", slug, None, answer.message or "completed")
        return Answer(item.number, "retry", None, str(answer.code), answer.message, retry_after=3600.0)

    @staticmethod
    def _path(slug: str, number: str) -> str:
        return f"/trackings/{quote(slug, safe='')}/{quote(number, safe='')}"

    def _request(self, method: str, path: str, body: dict[str, Any] | None) -> _Reply:
        headers = {"as-api-key": self.config.key, "Content-Type": "application/json"}
        data = orjson.dumps(body) if body is not None else None
        try:
            raw = self.client.fetch(self.name, self.config.url + path, data, headers, method)
        except FetchFailed as exc:
            if exc.status in (400, 404, 422):
                return _reply(exc.body, failed=True)
            raise ConnectorFailed(str(exc)) from None
        return _reply(raw, failed=False)


class _Reply:
    """What an answer says: AfterShip's error code (None for a success), its message, the courier."""

    def __init__(self, code: int | None, message: str | None, slug: str | None) -> None:
        self.code, self.message, self.slug = code, message, slug


def _reply(raw: bytes, failed: bool) -> _Reply:
    try:
        doc = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        doc = {}
    doc = doc if isinstance(doc, dict) else {}
    meta = doc.get("meta") if isinstance(doc.get("meta"), dict) else {}
    assert isinstance(meta, dict)
    data = doc.get("data") if isinstance(doc.get("data"), dict) else {}
    assert isinstance(data, dict)
    tracking = data.get("tracking") if isinstance(data.get("tracking"), dict) else data
    slug = tracking.get("slug") if isinstance(tracking, dict) else None
    message = meta.get("message")
    code = meta.get("code") if isinstance(meta.get("code"), int) else None
    if not failed:
        code = None
    elif code is None:
        code = 400
    return _Reply(code, str(message)[:400] if message else None, slug if isinstance(slug, str) else None)
