"""A local 17TRACK API v2.2 server for tests and benchmarks: real HTTP on 127.0.0.1, state in memory.

Written from 17TRACK's published documentation (asset.17track.net/api/document/v2.2_en "Tracking API";
help.17track.net "Error Codes and Troubleshooting", article 37570440168473; "Quota Deduction Standards
and Rules", article 37575160271001; the request limit, "3 requests per second", and the 40 numbers per
call of the same documentation):

- ``POST /track/v2.2/register | changecarrier | stoptrack | getquota``, JSON in and out, UTF-8.
- Authentication: the header ``17token`` must be the account's key, else HTTP 401 with code -18010002.
- At most 3 requests per second per key (a token bucket, 3 at once): beyond, HTTP 429. At most 40
  items per call: beyond, code -18010014 for the whole request. A body that is not a JSON array:
  -18010013.
- ``register`` items ``{"number", "carrier"?}``: a number of 5-50 letters and digits (else -18010012),
  a known carrier key (else -18019910), detected from the number when absent (else -18019903), not
  registered yet (else -18019901), while the quota lasts (else -18019908; each registration uses one).
  Accepted: ``{"origin": 1|2, "number", "carrier"}`` (origin 1: the carrier was detected).
- ``changecarrier`` ``{"number", "carrier_old"?, "carrier_new"}``: registered (else -18019805), not
  stopped (else -18019806), another carrier (else -18019803), at most 5 changes (else -18019807).
- ``stoptrack`` ``{"number", "carrier"?}``: registered (else -18019902) and tracking (else -18019906).
- ``getquota``: ``{"quota_total", "quota_used", "quota_remain", "today_used", "max_track_daily"}``.

Answers are ``{"code": 0, "data": {"accepted": [...], "rejected": [{"number", "error": {"code",
"message"}}]}}``; a refused request is ``{"code": <error>, "data": {"errors": [{"code", "message"}]}}``.
Knobs for the next N requests: ``fail`` (500) and ``rate_limit`` (429 with ``Retry-After``: the knob
``retry_after`` seconds, default 1).

    server, base_url = start_fake_track17(key="k")      # base_url ends in /track/v2.2
    ...; server.state.calls("register"); stop_fake_track17(server)
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.support.json_server import Bucket, StateServer, read_body, send_json, start, stop

PREFIX = "/track/v2.2/"
NUMBER = re.compile(r"^[A-Za-z0-9]{5,50}$")
# Carrier keys the server knows (17TRACK's carrier list: China Post, China EMS, Russian Post, CDEK,
# Cainiao, 4PX, Yanwen, YunExpress, UPS) and how it detects them from a number's shape.
CARRIERS = {3011, 3013, 18031, 100030, 190271, 190094, 190012, 190008, 100002}
DETECT = (
    (re.compile(r"^[A-Z]{2}\d{9}CN$"), 3011),
    (re.compile(r"^[A-Z]{2}\d{9}RU$"), 18031),
    (re.compile(r"^(LP|AE)\d+$"), 190271),
    (re.compile(r"^1Z[0-9A-Z]{16}$"), 100002),
)
MESSAGES = {
    -18010002: "Invalid security key.",
    -18010012: "The format of data 'number' is invalid.",
    -18010013: "Invalid submitted data.",
    -18010014: "Tracking numbers exceed the 40 limit.",
    -18019901: "Tracking number {0} is already registered.",
    -18019902: "Tracking number {0} is not registered yet. Register first.",
    -18019903: "Carrier cannot be detected.",
    -18019803: "The carrier codes requested to be changed cannot be the same.",
    -18019805: "No tracking number {0} registered with the specified carrier, or carrier_old is wrong.",
    -18019806: "Stopped tracking numbers cannot change carrier; retrack them first.",
    -18019807: "The carrier has been changed the most times allowed.",
    -18019906: "Only tracking numbers being tracked can be stopped.",
    -18019908: "The quota is used up.",
    -18019910: "The carrier code {0} is not correct.",
}


@dataclass(frozen=True, slots=True)
class Call:
    """A request the server received: endpoint, the 17token header, the parsed body, when."""

    endpoint: str
    token: str | None
    body: Any
    at: float


@dataclass
class Tracked:
    """A registered number: its carrier, whether it is still tracked, how often its carrier changed."""

    carrier: int
    tracking: bool = True
    changes: int = 0


@dataclass
class Track17State:
    """The account: its key, quota, registered numbers, the requests seen and the knobs."""

    key: str
    quota_total: int = 100
    quota_used: int = 0
    numbers: dict[str, Tracked] = field(default_factory=dict)
    seen: list[Call] = field(default_factory=list)
    knobs: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    bucket: Bucket = field(default_factory=lambda: Bucket(3.0, 3.0))

    def calls(self, endpoint: str) -> list[Call]:
        """The requests to one endpoint that got past authentication and the rate limit."""
        with self.lock:
            return [c for c in self.seen if c.endpoint == endpoint]

    def script(self, **counts: int) -> None:
        """Misbehave for the next requests: fail=N (500), rate_limit=N (429, Retry-After: retry_after, 1)."""
        with self.lock:
            self.knobs.update(counts)

    def take(self, knob: str) -> bool:
        """Use up one request of a knob (call with the lock held)."""
        if self.knobs.get(knob, 0) > 0:
            self.knobs[knob] -= 1
            return True
        return False

    @property
    def too_fast(self) -> int:
        """Requests answered 429 for going past the rate."""
        return self.bucket.refused


def retry_after(state: Track17State) -> dict[str, str]:
    """The Retry-After header of a scripted 429."""
    return {"Retry-After": str(state.knobs.get("retry_after", 1))}


def _error(code: int, *args: object) -> dict[str, Any]:
    return {"code": code, "message": MESSAGES[code].format(*args)}


def _refused(code: int) -> dict[str, Any]:
    return {"code": code, "data": {"errors": [_error(code)]}}


class _Account:
    """The endpoints' rules over a state (called with its lock held)."""

    def __init__(self, state: Track17State) -> None:
        self.state = state

    def register(self, item: dict[str, Any]) -> dict[str, Any]:
        number, carrier = str(item.get("number", "")), item.get("carrier")
        if not NUMBER.match(number):
            return {"number": number, "error": _error(-18010012)}
        if carrier is not None and carrier not in CARRIERS:
            return {"number": number, "error": _error(-18019910, carrier)}
        origin = 2
        if carrier is None:
            carrier = next((key for rx, key in DETECT if rx.match(number)), None)
            origin = 1
            if carrier is None:
                return {"number": number, "error": _error(-18019903)}
        if number in self.state.numbers:
            return {"number": number, "error": _error(-18019901, number)}
        if self.state.quota_used >= self.state.quota_total:
            return {"number": number, "error": _error(-18019908)}
        self.state.quota_used += 1
        self.state.numbers[number] = Tracked(int(carrier))
        return {"origin": origin, "number": number, "carrier": carrier}

    def changecarrier(self, item: dict[str, Any]) -> dict[str, Any]:
        number, new, old = str(item.get("number", "")), item.get("carrier_new"), item.get("carrier_old")
        tracked = self.state.numbers.get(number)
        if tracked is None or (old is not None and old != tracked.carrier):
            return {"number": number, "error": _error(-18019805, old, number)}
        if not tracked.tracking:
            return {"number": number, "error": _error(-18019806)}
        if new not in CARRIERS:
            return {"number": number, "error": _error(-18019910, new)}
        if new == tracked.carrier:
            return {"number": number, "error": _error(-18019803)}
        if tracked.changes >= 5:
            return {"number": number, "error": _error(-18019807)}
        tracked.carrier, tracked.changes = int(new), tracked.changes + 1
        return {"number": number, "carrier": new}

    def stoptrack(self, item: dict[str, Any]) -> dict[str, Any]:
        number = str(item.get("number", ""))
        tracked = self.state.numbers.get(number)
        if tracked is None:
            return {"number": number, "error": _error(-18019902, number)}
        if not tracked.tracking:
            return {"number": number, "error": _error(-18019906)}
        tracked.tracking = False
        return {"number": number, "carrier": tracked.carrier}

    def getquota(self) -> dict[str, Any]:
        s = self.state
        remain = max(0, s.quota_total - s.quota_used)
        return {
            "code": 0,
            "data": {
                "quota_total": s.quota_total,
                "quota_used": s.quota_used,
                "quota_remain": remain,
                "today_used": s.quota_used,
                "max_track_daily": 0,
            },
        }


class _Handler(BaseHTTPRequestHandler):
    server: FakeTrack17Server

    def do_POST(self) -> None:
        state = self.server.state
        endpoint = self.path[len(PREFIX) :] if self.path.startswith(PREFIX) else ""
        if endpoint not in ("register", "changecarrier", "stoptrack", "getquota"):
            self._send(404, {"code": 404, "message": "Incorrect request URL."})
            return
        token = self.headers.get("17token")
        with state.lock:
            if token != state.key:
                self._send(401, _refused(-18010002))
                return
            if state.take("rate_limit"):
                self._send(429, {"code": 429, "message": "Too many requests"}, retry_after(state))
                return
            if not state.bucket.admit():
                self._send(429, {"code": 429, "message": "Request frequency exceeds the allowed limit."})
                return
            if state.take("fail"):
                self._send(500, {"code": 500, "message": "Server error."})
                return
            body = read_body(self)
            state.seen.append(Call(endpoint, token, body, time.monotonic()))
            self._send(200, self._answer(_Account(state), endpoint, body))

    def _answer(self, account: _Account, endpoint: str, body: Any) -> dict[str, Any]:
        if endpoint == "getquota":
            return account.getquota()
        if not isinstance(body, list) or not all(isinstance(i, dict) for i in body):
            return _refused(-18010013)
        if len(body) > 40:
            return _refused(-18010014)
        answered = [getattr(account, endpoint)(item) for item in body]
        return {
            "code": 0,
            "data": {
                "accepted": [a for a in answered if "error" not in a],
                "rejected": [a for a in answered if "error" in a],
            },
        }

    def _send(self, status: int, doc: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        send_json(self, status, doc, headers)

    def log_message(self, format: str, *args: Any) -> None:
        return


class FakeTrack17Server(StateServer):
    """The HTTP server; ``state`` is the account."""

    state: Track17State


def start_fake_track17(
    key: str = "test-17token", port: int = 0, **account: Any
) -> tuple[FakeTrack17Server, str]:
    """Serve a 17TRACK account on 127.0.0.1 in a background thread; the server and its API base URL."""
    server = FakeTrack17Server(port, _Handler, Track17State(key, **account))
    return server, start(server, "fake-17track", PREFIX.rstrip("/"))


def stop_fake_track17(server: FakeTrack17Server) -> None:
    """Stop serving and close the listening socket."""
    stop(server)
