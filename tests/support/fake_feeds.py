"""A small fake carrier feed server for tests and the demo: real HTTP on loopback, scripted answers.

- ``GET /events?cursor=X``: a cursor feed over ``FakeFeeds.events`` (canonical events), ``page_size``
  at a time: ``{"events": [...], "next_cursor": "c<n>"}``.
- ``POST /russian-post``: Russian Post's batch service (SOAP): getTicket hands out a ticket for the
  numbers asked; getResponseByTicket answers with the scripted operations of those numbers
  (``FakeFeeds.russian_post``), an Error 12 item for numbers it knows nothing about.

Knobs, each for the next N requests: ``fail`` (500), ``time_out`` (sleep past the client's timeout),
``rate_limit`` (429 with Retry-After), ``corrupt`` (200 with a body that is not a feed page) and
``not_ready`` (getResponseByTicket answers "not ready", ErrorTypeID 6).

    server, base_url = start_fake_feed_server()
    server.feeds.events.append({...}); server.feeds.script(fail=1)
    ...
    stop_fake_feed_server(server)
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import quoteattr

import defusedxml.ElementTree as safe_etree
import orjson

RUSSIAN_POST_PATH = "/russian-post"
_ENVELOPE = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body>{}</S:Body></S:Envelope>'
)
_NS = 'xmlns:ns2="http://fclient.russianpost.org/postserver" xmlns:ns3="http://fclient.russianpost.org"'


@dataclass(frozen=True, slots=True)
class Seen:
    """A request the server received."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: bytes
    at: float


@dataclass
class FakeFeeds:
    """The server's script: what it serves and how it misbehaves. Change it at any time (use ``lock``)."""

    events: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 2
    russian_post: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    sleep_seconds: float = 2.0
    retry_after: int = 1
    seen: list[Seen] = field(default_factory=list)
    tickets: dict[str, list[str]] = field(default_factory=dict)
    knobs: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, **counts: int) -> None:
        """Misbehave for the next requests: fail=N, time_out=N, rate_limit=N, corrupt=N, not_ready=N."""
        with self.lock:
            for knob, count in counts.items():
                if knob not in ("fail", "time_out", "rate_limit", "corrupt", "not_ready"):
                    raise ValueError(f"unknown knob {knob!r}")
                self.knobs[knob] = count

    def take(self, knob: str) -> bool:
        """Use up one request of a knob; True if the knob was set."""
        with self.lock:
            if self.knobs.get(knob, 0) > 0:
                self.knobs[knob] -= 1
                return True
            return False

    def page(self, cursor: str | None) -> bytes | None:
        """The cursor feed page after ``cursor`` (None when the cursor is not one of ours)."""
        start = 0
        if cursor:
            if not cursor.startswith("c") or not cursor[1:].isdigit():
                return None
            start = int(cursor[1:])
        with self.lock:
            chunk = self.events[start : start + self.page_size]
        return orjson.dumps({"events": chunk, "next_cursor": f"c{start + len(chunk)}"})

    def ticket_for(self, numbers: list[str]) -> str:
        """Hand out a ticket id for a batch of numbers."""
        with self.lock:
            ticket = f"{len(self.tickets) + 1:017d}FAKE"
            self.tickets[ticket] = numbers
        return ticket

    def answer(self, ticket: str) -> bytes:
        """The getResponseByTicket answer for a ticket."""
        with self.lock:
            numbers = self.tickets.get(ticket)
            operations = {n: list(self.russian_post.get(n, [])) for n in numbers or []}
        if numbers is None:
            return _ticket_error("17", "Ответ для ticket удалён или не существует")
        items = "".join(_item(number, operations[number]) for number in numbers)
        return _ENVELOPE.format(
            f'<ns2:answerByTicketResponse {_NS}><value FileName="" FileTypeID="2" FileNumber="1" '
            f'RecipientID="1" DatePreparation="01.01.2026 00:00:00">{items}</value>'
            "</ns2:answerByTicketResponse>"
        ).encode("utf-8")


def _item(number: str, operations: list[dict[str, Any]]) -> str:
    if not operations:
        error = '<ns3:Error ErrorTypeID="12" ErrorName="Сообщение не найдено"/>'
        return f"<ns3:Item Barcode={quoteattr(number)}>{error}</ns3:Item>"
    ops = "".join(
        f'<ns3:Operation OperTypeID="{op["type"]}" OperCtgID="{op.get("attr", 0)}" '
        f"OperName={quoteattr(str(op.get('name', '')))} DateOper={quoteattr(op['at'])} "
        f"IndexOper={quoteattr(str(op.get('index', '')))}/>"
        for op in operations
    )
    return f"<ns3:Item Barcode={quoteattr(number)}>{ops}</ns3:Item>"


def _ticket_error(code: str, message: str) -> bytes:
    return _ENVELOPE.format(
        f"<ns2:answerByTicketResponse {_NS}>"
        f'<error ErrorTypeID="{code}" ErrorName={quoteattr(message)}/></ns2:answerByTicketResponse>'
    ).encode("utf-8")


class _Handler(BaseHTTPRequestHandler):
    server: FakeFeedServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: tests and the demo read the ``seen`` list instead."""

    def _serve(self) -> None:
        feeds = self.server.feeds
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        query = parse_qs(parts.query)
        with feeds.lock:
            feeds.seen.append(Seen(self.command, parts.path, query, body, time.monotonic()))
        if feeds.take("rate_limit"):
            self._send(429, b'{"error": "slow down"}', extra={"Retry-After": str(feeds.retry_after)})
        elif feeds.take("fail"):
            self._send(500, b'{"error": "scripted failure"}')
        elif feeds.take("time_out"):
            time.sleep(feeds.sleep_seconds)
            self._send(504, b'{"error": "too late"}')
        elif feeds.take("corrupt"):
            self._send(200, b'{"events": [{"tracking_number": ')
        elif self.command == "GET" and parts.path == "/events":
            cursors = query.get("cursor") or []
            page = feeds.page(cursors[0] if cursors else None)
            if page is None:
                self._send(400, b'{"error": "bad cursor"}')
            else:
                self._send(200, page)
        elif self.command == "POST" and parts.path == RUSSIAN_POST_PATH:
            self._russian_post(feeds, body)
        else:
            self._send(404, b'{"error": "no such feed"}')

    def _russian_post(self, feeds: FakeFeeds, body: bytes) -> None:
        try:
            root = safe_etree.fromstring(body, forbid_dtd=True)
        except Exception:
            self._send(400, b"not XML", "text/plain")
            return
        names = {element.tag.rpartition("}")[2]: element for element in root.iter()}
        if "ticketRequest" in names:
            numbers = [item.get("Barcode", "") for item in root.iter() if item.tag.endswith("Item")]
            ticket = feeds.ticket_for(numbers)
            issued = f"<ns2:ticketResponse {_NS}><value>{ticket}</value></ns2:ticketResponse>"
            self._send(200, _ENVELOPE.format(issued).encode("utf-8"), "text/xml; charset=utf-8")
        elif "answerByTicketRequest" in names:
            ticket = (names["ticket"].text or "").strip() if "ticket" in names else ""
            if feeds.take("not_ready"):
                answer = _ticket_error("6", "Ответ для ticket ещё не готов")
            else:
                answer = feeds.answer(ticket)
            self._send(200, answer, "text/xml; charset=utf-8")
        else:
            self._send(400, b"unknown SOAP method", "text/plain")

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        extra: dict[str, str] | None = None,
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (ConnectionError, OSError):
            pass  # the client gave up (a scripted time-out): nobody is listening any more


class FakeFeedServer(ThreadingHTTPServer):
    """The HTTP server; ``feeds`` is its script."""

    daemon_threads = True

    def __init__(self, port: int, feeds: FakeFeeds) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.feeds = feeds

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Ignore clients that hang up; the fake has nothing to report."""


def start_fake_feed_server(port: int = 0, feeds: FakeFeeds | None = None) -> tuple[FakeFeedServer, str]:
    """Serve the fake feeds on 127.0.0.1 in a background thread; the server and its base URL."""
    server = FakeFeedServer(port, feeds or FakeFeeds())
    thread = threading.Thread(target=server.serve_forever, name="fake-feeds", daemon=True)
    thread.start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def stop_fake_feed_server(server: FakeFeedServer) -> None:
    """Stop serving and close the listening socket."""
    server.shutdown()
    server.server_close()
