"""A local AfterShip Tracking API (2024-04) for tests: real HTTP on 127.0.0.1, trackings in memory.

Written from AfterShip's published pages (aftership.com/docs/tracking: "Create a tracking", "Mark
tracking as completed (Legacy)", "Delete a tracking (Legacy)", "Request Errors", "Rate limit"):

- ``POST /tracking/2024-04/trackings`` ``{"tracking_number", "slug"?}`` → 201 ``{"meta": {"code": 201},
  "data": {"tracking": {"id", "tracking_number", "slug", "tag": "Pending", "active": true}}}``.
- ``POST /tracking/2024-04/trackings/{slug}/{tracking_number}/mark-as-completed`` ``{"reason"}`` (one of
  DELIVERED, LOST, RETURNED_TO_SENDER) → 200, the tracking inactive.
- ``DELETE /tracking/2024-04/trackings/{slug}/{tracking_number}`` → 200.
- The header ``as-api-key`` must be the account's key, else 401 (meta.code 401). 10 requests a second
  per organization (a bucket of 10): beyond, 429 TooManyRequests.
- Errors as HTTP 400 / 404 with ``meta.code``: 4001 invalid JSON, 4003 tracking already exists, 4004
  tracking does not exist, 4007 tracking_number required, 4010 invalid slug, 4012 courier not
  detected, 4017 invalid tracking_number format, 4008 an invalid reason.

    server, base_url = start_fake_aftership(key="k")      # base_url ends in /tracking/2024-04
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote

from tests.support.json_server import Bucket, StateServer, read_body, send_json, start, stop

PREFIX = "/tracking/2024-04"
SLUGS = {
    "china-post",
    "china-ems",
    "russian-post",
    "cdek",
    "cainiao",
    "4px",
    "yanwen",
    "yunexpress",
    "sf-express",
}
DETECT = (
    (re.compile(r"^[A-Z]{2}\d{9}CN$"), "china-post"),
    (re.compile(r"^[A-Z]{2}\d{9}RU$"), "russian-post"),
    (re.compile(r"^(LP|AE)\d+$"), "cainiao"),
)
NUMBER = re.compile(r"^[A-Za-z0-9]{3,100}$")
REASONS = {"DELIVERED", "LOST", "RETURNED_TO_SENDER"}
MESSAGES = {
    400: "The request was invalid or cannot be otherwise served.",
    401: "Invalid API key.",
    404: "The URI requested is invalid or the resource requested does not exist.",
    429: "You have exceeded the API call rate limit.",
    4001: "Invalid JSON data.",
    4003: "Tracking already exists.",
    4004: "Tracking does not exist.",
    4007: "tracking_number is required.",
    4008: "The value of reason is invalid.",
    4010: "The value of slug is invalid.",
    4012: "Unable to import shipment as we don't recognize the carrier from this tracking number.",
    4017: "The format of tracking_number is invalid.",
}
TYPES = {400: "BadRequest", 401: "Unauthorized", 404: "NotFound", 429: "TooManyRequests"}


@dataclass(frozen=True, slots=True)
class Call:
    """A request the server received past authentication and the rate limit."""

    method: str
    path: str
    key: str | None
    body: Any
    at: float


@dataclass
class AfterShipState:
    """The organization: its key, its trackings by (slug, number), the requests seen."""

    key: str
    trackings: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    seen: list[Call] = field(default_factory=list)
    bucket: Bucket = field(default_factory=lambda: Bucket(10.0, 10.0))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def calls(self, method: str, suffix: str = "") -> list[Call]:
        """The requests of one method whose path ends with ``suffix``."""
        with self.lock:
            return [c for c in self.seen if c.method == method and c.path.endswith(suffix)]


def _error(code: int, status: int = 400) -> tuple[int, dict[str, Any]]:
    meta = {"code": code, "message": MESSAGES[code], "type": TYPES.get(status, "BadRequest")}
    return status, {"meta": meta, "data": {}}


def _ok(status: int, tracking: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return status, {"meta": {"code": status}, "data": {"tracking": tracking}}


class _Organization:
    """The endpoints' rules over a state (called with its lock held)."""

    def __init__(self, state: AfterShipState) -> None:
        self.state = state

    def create(self, body: Any) -> tuple[int, dict[str, Any]]:
        if not isinstance(body, dict):
            return _error(4001)
        number, slug = body.get("tracking_number"), body.get("slug")
        if not isinstance(number, str) or not number:
            return _error(4007)
        if not NUMBER.match(number):
            return _error(4017)
        if slug is not None and slug not in SLUGS:
            return _error(4010)
        slug = slug or next((s for rx, s in DETECT if rx.match(number)), None)
        if slug is None:
            return _error(4012)
        if (slug, number) in self.state.trackings:
            return _error(4003)
        tracking = {
            "id": uuid.uuid4().hex,
            "tracking_number": number,
            "slug": slug,
            "tag": "Pending",
            "active": True,
        }
        self.state.trackings[(slug, number)] = tracking
        return _ok(201, tracking)

    def complete(self, slug: str, number: str, body: Any) -> tuple[int, dict[str, Any]]:
        tracking = self.state.trackings.get((slug, number))
        if tracking is None:
            return _error(4004, 404)
        if not isinstance(body, dict) or body.get("reason") not in REASONS:
            return _error(4008)
        tracking.update(active=False, tag="Delivered" if body["reason"] == "DELIVERED" else tracking["tag"])
        return _ok(200, tracking)

    def delete(self, slug: str, number: str) -> tuple[int, dict[str, Any]]:
        tracking = self.state.trackings.pop((slug, number), None)
        return _error(4004, 404) if tracking is None else _ok(200, tracking)


class _Handler(BaseHTTPRequestHandler):
    server: FakeAfterShipServer

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        state = self.server.state
        body = read_body(self)
        path = self.path[len(PREFIX) :] if self.path.startswith(PREFIX) else ""
        parts = [unquote(p) for p in path.strip("/").split("/")]
        with state.lock:
            key = self.headers.get("as-api-key")
            if key != state.key:
                send_json(self, *_error(401, 401))
                return
            if not state.bucket.admit():
                send_json(self, *_error(429, 429))
                return
            state.seen.append(Call(method, path, key, body, time.monotonic()))
            org = _Organization(state)
            if method == "POST" and parts == ["trackings"]:
                send_json(self, *org.create(body))
            elif (
                method == "POST"
                and len(parts) == 4
                and parts[0] == "trackings"
                and parts[3] == "mark-as-completed"
            ):
                send_json(self, *org.complete(parts[1], parts[2], body))
            elif method == "DELETE" and len(parts) == 3 and parts[0] == "trackings":
                send_json(self, *org.delete(parts[1], parts[2]))
            else:
                send_json(self, *_error(404, 404))

    def log_message(self, format: str, *args: Any) -> None:
        return


class FakeAfterShipServer(StateServer):
    """The HTTP server; ``state`` is the account."""

    state: AfterShipState


def start_fake_aftership(key: str = "test-as-api-key", port: int = 0) -> tuple[FakeAfterShipServer, str]:
    """Serve an AfterShip organization on 127.0.0.1 in a background thread; the server and its base URL."""
    server = FakeAfterShipServer(port, _Handler, AfterShipState(key))
    return server, start(server, "fake-aftership", PREFIX)


def stop_fake_aftership(server: FakeAfterShipServer) -> None:
    """Stop serving and close the listening socket."""
    stop(server)
