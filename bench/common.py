"""Shared helpers for the benchmarks: fresh databases, a live gunicorn, synthetic events."""

from __future__ import annotations

import contextlib
import os
import random
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.request import urlopen

from sqlalchemy import make_url, text

from tracking import schema
from tracking.db import make_engine
from web.worker.serve import gunicorn_command

ROOT = Path(__file__).resolve().parents[1]
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextlib.contextmanager
def fresh_database(kind: str) -> Iterator[str]:
    """A migrated, empty database of ``kind`` ("sqlite" or "postgres"), dropped afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            engine = make_engine(url)
            schema.upgrade(engine)
            engine.dispose()
            yield url
        return
    admin_url = os.environ.get("SILKWAY_TEST_POSTGRES_URL", PG_DEFAULT)
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT", pool_size=1)
    name = f"silkway_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    schema.upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def free_port() -> int:
    """An unused TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class OtlpSink:
    """A stand-in OTLP/HTTP collector on loopback: its endpoint, and what it was sent."""

    endpoint: str
    requests: int = 0
    bytes: int = 0


@contextlib.contextmanager
def otlp_sink() -> Iterator[OtlpSink]:
    """Accept OTLP/HTTP exports (``POST /v1/traces``) and count them, for benchmarks of traced servers."""
    sink = OtlpSink("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            size = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(size)
            sink.requests, sink.bytes = sink.requests + 1, sink.bytes + size
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    sink.endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def gunicorn(database_url: str, workers: int = 2, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """A live gunicorn serving wsgi:app on loopback; yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "SILKWAY_DATABASE_URL": database_url,
        "SILKWAY_RATELIMIT_ENABLED": "false",
        "SILKWAY_LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }
    cmd = gunicorn_command(f"127.0.0.1:{port}", workers, "--log-level", "warning")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(1200):  # a minute and more: a loaded shared machine starts it slowly
            try:
                with urlopen(base + "/healthz", timeout=1):
                    break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("gunicorn did not start")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def run_threads(work: Callable[[], None], threads: int) -> float:
    """Run ``work`` in ``threads`` threads at once; the wall seconds until the last one finished."""
    started = time.perf_counter()
    pool = [threading.Thread(target=work) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return time.perf_counter() - started


def synthetic_events(parcels: int, per_parcel: int, seed: int = 1) -> list[list[dict[str, object]]]:
    """Events grouped by parcel: a Cainiao-like journey of ``per_parcel`` scans each."""
    rng = random.Random(seed)
    steps = [
        ("info_received", "label_created"),
        ("in_transit", "picked_up"),
        ("in_transit", "in_sorting"),
        ("in_transit", "departed"),
        ("in_transit", "export_customs"),
        ("in_transit", "line_haul"),
        ("in_transit", "arrived_destination_country"),
        ("in_transit", "customs_processing"),
        ("in_transit", "customs_cleared"),
        ("in_transit", "in_sorting"),
        ("out_for_delivery", "courier"),
        ("delivered", "recipient"),
    ]
    places = [
        ("Shenzhen", "CN"),
        ("Guangzhou", "CN"),
        ("Yiwu", "CN"),
        ("Moscow", "RU"),
        ("Novosibirsk", "RU"),
    ]
    start = datetime(2026, 9, 1, tzinfo=UTC)
    out = []
    for p in range(parcels):
        number = f"LP{p:014d}"
        at = start + timedelta(minutes=rng.randrange(60 * 24 * 30))
        journey = []
        for i in range(per_parcel):
            status, sub = steps[i % len(steps)]
            at += timedelta(hours=rng.uniform(2, 30))
            name, country = places[min(i // 3, len(places) - 1)]
            journey.append(
                {
                    "tracking_number": number,
                    "status": status,
                    "substatus": sub,
                    "occurred_at": at.isoformat(),
                    "location": {"name": name, "country": country},
                    "description": f"scan {i}",
                    "raw_code": f"C{i}",
                }
            )
        out.append(journey)
    return out
