"""What the local service servers share: a JSON answer, a per-key rate bucket, serving on loopback."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson


def send_json(
    handler: BaseHTTPRequestHandler, status: int, doc: dict[str, Any], headers: dict[str, str] | None = None
) -> None:
    """Answer ``status`` with ``doc`` as JSON."""
    body = orjson.dumps(doc)
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


def read_body(handler: BaseHTTPRequestHandler) -> Any:
    """The request's JSON body (None when empty or not JSON)."""
    raw = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
    try:
        return orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        return None


@dataclass
class Bucket:
    """A service's documented request rate: ``rate`` a second, ``burst`` at once (call with a lock held)."""

    rate: float
    burst: float
    tokens: float = -1.0
    stamp: float = field(default_factory=time.monotonic)
    refused: int = 0

    def admit(self) -> bool:
        """Take a token; False (and one more refusal counted) means 429."""
        now = time.monotonic()
        if self.tokens < 0:
            self.tokens = self.burst
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1.0:
            self.refused += 1
            return False
        self.tokens -= 1.0
        return True


class StateServer(ThreadingHTTPServer):
    """A loopback HTTP server whose handlers answer from ``state``."""

    daemon_threads = True

    def __init__(self, port: int, handler: type[BaseHTTPRequestHandler], state: Any) -> None:
        super().__init__(("127.0.0.1", port), handler)
        self.state = state


def start(server: ThreadingHTTPServer, name: str, prefix: str) -> str:
    """Serve in a background thread; the base URL (``prefix`` appended)."""
    threading.Thread(target=server.serve_forever, name=name, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}{prefix}"


def stop(server: ThreadingHTTPServer) -> None:
    """Stop serving and close the listening socket."""
    server.shutdown()
    server.server_close()
