"""A local Cainiao global tracking query for tests: ``GET /global/detail.json?mailNos=<n>&lang=...``.

Answers as the recorded exchanges of tests/fixtures/samples/cainiao_global_detail_*.json (dir01/parcels'
captures of global.cainiao.com): ``{"module": [<the number's module>], "success": true}``; a number it
has no module for gets a module with an empty ``detailList`` (what Cainiao answers for an unknown number,
per the same captures). ``mailNos`` is required (else ``{"success": false}``). Cainiao publishes no limit
and no key; the server records every request with its time, so a test can check the client's pace.

    server, base_url = start_fake_cainiao({"AE010698498": module})   # base_url ends in /global
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.json_server import StateServer, send_json, start, stop

PREFIX = "/global"


@dataclass
class CainiaoState:
    """The modules Cainiao knows, by number, and the numbers asked for with when."""

    modules: dict[str, dict[str, Any]] = field(default_factory=dict)
    asked: list[tuple[str, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def numbers_asked(self) -> list[str]:
        with self.lock:
            return [number for number, _ in self.asked]


class _Handler(BaseHTTPRequestHandler):
    server: FakeCainiaoServer

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path != f"{PREFIX}/detail.json":
            send_json(self, 404, {"success": False})
            return
        numbers = parse_qs(parts.query).get("mailNos", [""])[0]
        state = self.server.state
        if not numbers:
            send_json(self, 200, {"success": False, "module": []})
            return
        with state.lock:
            modules = []
            for number in numbers.split(","):
                state.asked.append((number, time.monotonic()))
                modules.append(
                    state.modules.get(number) or {"mailNo": number, "status": "", "detailList": []}
                )
        send_json(self, 200, {"module": modules, "success": True})

    def log_message(self, format: str, *args: Any) -> None:
        return


class FakeCainiaoServer(StateServer):
    """The HTTP server; ``state`` is what Cainiao knows."""

    state: CainiaoState


def start_fake_cainiao(modules: dict[str, dict[str, Any]] | None = None) -> tuple[FakeCainiaoServer, str]:
    """Serve on 127.0.0.1 in a background thread; the server and its base URL."""
    server = FakeCainiaoServer(0, _Handler, CainiaoState(dict(modules or {})))
    return server, start(server, "fake-cainiao", PREFIX)


def stop_fake_cainiao(server: FakeCainiaoServer) -> None:
    """Stop serving and close the listening socket."""
    stop(server)
