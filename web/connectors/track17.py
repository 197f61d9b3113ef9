"""17TRACK API v2.2: register numbers, change their carrier, stop tracking them, read the quota.

Every call is ``POST {base}/{endpoint}`` with the header ``17token: <key>`` and a JSON array of at most
40 items (``register``: ``{"number", "carrier"?}``; ``changecarrier``: ``{"number", "carrier_old"?,
"carrier_new"}``; ``stoptrack``: ``{"number", "carrier"?}``; ``getquota``: no body). The answer is
``{"code": 0, "data": {"accepted": [{"number", "carrier", ...}], "rejected": [{"number", "error":
{"code", "message"}}]}}``; a refused request has a non-zero ``code`` and ``data.errors``. Limits: 3
requests per second per key (429 beyond), 40 numbers per call (-18010014). Error codes from 17TRACK's
"Error Codes and Troubleshooting" page (help.17track.net, article 37570440168473) and the v2.2 API
documentation (asset.17track.net/api/document/v2.2_en). The carrier keys are data/track17_carriers.json.

Requests go through the pull jobs' HTTP client (web/feeds/client.py): the token bucket holds the rate,
5xx and dropped connections are retried with backoff, and a 429 comes back as RetryLater.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import orjson

from tracking.connectors import Answer
from web.connectors.settings import ConnectorConfig, data_table
from web.feeds.client import FeedClient

ALREADY_REGISTERED = -18019901
NOT_REGISTERED = -18019902
NOT_TRACKING = -18019906  # "only numbers being tracked can be stopped": stopped already
SAME_CARRIER = -18019803
WAIT_FOR_RESULTS = -18019808  # changed or registered recently: wait for the first results
INTERNAL = -18010003
DAILY_LIMIT = -18019907
QUOTA_SPENT = -18019908
QUOTA_CODES: tuple[str, ...] = (str(DAILY_LIMIT), str(QUOTA_SPENT))
ENDPOINTS = {"register": "register", "changecarrier": "changecarrier", "stop": "stoptrack"}


class ConnectorFailed(Exception):
    """The service refused the whole call (a bad key, an IP not whitelisted, malformed data)."""


@dataclass(frozen=True, slots=True)
class Item:
    """A number to send: Silkway's carrier code for it and the carrier the service gave it before."""

    number: str
    carrier: str | None
    remote_carrier: str | None


@cache
def carrier_keys() -> dict[str, int]:
    """Silkway carrier code → 17TRACK carrier key."""
    return data_table("track17_carriers", "carriers")


class Track17:
    """The 17TRACK connector over the shared HTTP client (its own token bucket, named ``track17``)."""

    name = "track17"
    quota_codes = QUOTA_CODES
    payload_carrier: str | None = None

    def __init__(self, config: ConnectorConfig, client: FeedClient) -> None:
        self.config, self.client = config, client
        self.batch = config.batch

    def call(self, call: str, items: Sequence[Item]) -> list[Answer]:
        """Make one call (``register``, ``changecarrier`` or ``stop``) for at most 40 items."""
        if len(items) > 40:
            raise ValueError("17TRACK takes at most 40 numbers per call")
        body = [_request_item(call, item) for item in items]
        data = self._post(ENDPOINTS[call], orjson.dumps(body))
        answers = [_accepted(call, entry) for entry in _list(data, "accepted")]
        answers += [_rejected(call, entry) for entry in _list(data, "rejected")]
        answered = {a.number for a in answers}
        missing = "17TRACK's answer did not name this number"
        answers += [
            Answer(i.number, "retry", code=None, message=missing) for i in items if i.number not in answered
        ]
        return answers

    def quota(self) -> int:
        """The registrations left (``getquota``: ``quota_remain``)."""
        data = self._post("getquota", b"")
        remain = data.get("quota_remain")
        if isinstance(remain, bool) or not isinstance(remain, int):
            raise ConnectorFailed("17TRACK's getquota answer has no quota_remain")
        return remain

    def _post(self, endpoint: str, body: bytes) -> dict[str, Any]:
        headers = {"17token": self.config.key, "Content-Type": "application/json"}
        raw = self.client.fetch(self.name, f"{self.config.url}/{endpoint}", body, headers)
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise ConnectorFailed(f"17TRACK's {endpoint} answer is not JSON") from None
        if not isinstance(doc, dict):
            raise ConnectorFailed(f"17TRACK's {endpoint} answer is not an object")
        data = doc.get("data") if isinstance(doc.get("data"), dict) else {}
        assert isinstance(data, dict)
        if doc.get("code") != 0:
            errors = [e for e in _list(data, "errors") if isinstance(e, dict)]
            first = errors[0] if errors else {}
            raise ConnectorFailed(
                f"17TRACK refused {endpoint}: {doc.get('code')} {first.get('message', '')}".strip()
            )
        return data


def _request_item(call: str, item: Item) -> dict[str, Any]:
    key = carrier_keys().get(item.carrier or "")
    out: dict[str, Any] = {"number": item.number}
    if call == "changecarrier":
        if item.remote_carrier and item.remote_carrier.isdigit():
            out["carrier_old"] = int(item.remote_carrier)
        out["carrier_new"] = key
    elif call == "stop" and item.remote_carrier and item.remote_carrier.isdigit():
        out["carrier"] = int(item.remote_carrier)
    elif call == "register" and key is not None:
        out["carrier"] = key
    return out


def _list(data: dict[str, Any], name: str) -> list[Any]:
    found = data.get(name)
    return found if isinstance(found, list) else []


def _accepted(call: str, entry: Any) -> Answer:
    entry = entry if isinstance(entry, dict) else {}
    carrier = entry.get("carrier")
    remote = str(carrier) if isinstance(carrier, int) and not isinstance(carrier, bool) else None
    outcome = "stopped" if call == "stop" else "registered"
    return Answer(str(entry.get("number", "")), outcome, remote, None, "accepted")


def _rejected(call: str, entry: Any) -> Answer:
    entry = entry if isinstance(entry, dict) else {}
    error = entry.get("error") if isinstance(entry.get("error"), dict) else {}
    assert isinstance(error, dict)
    code = error.get("code")
    message = str(error.get("message") or "")[:400] or None
    number = str(entry.get("number", ""))
    text = None if code is None else str(code)
    if code == INTERNAL:
        return Answer(number, "retry", None, text, message, retry_after=60.0)
    if code == WAIT_FOR_RESULTS:
        return Answer(number, "retry", None, text, message, retry_after=3600.0)
    if call == "register" and code == ALREADY_REGISTERED:
        return Answer(number, "registered", None, text, message)
    if call == "stop" and code in (NOT_TRACKING, NOT_REGISTERED):
        return Answer(number, "stopped", None, text, message)
    if call == "stop":
        return Answer(number, "retry", None, text, message, retry_after=3600.0)
    if call == "changecarrier":  # still registered with the old carrier; the refusal is kept and shown
        return Answer(number, "registered", None, None if code == SAME_CARRIER else text, message)
    return Answer(number, "rejected", None, text, message)
