"""Helpers for the reliability tests: dedicated databases, a live gunicorn we can hurt, canonical batches."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.request import urlopen

import orjson
from sqlalchemy import make_url, text

from tracking import schema
from tracking.accounts import create_key, ensure_carrier
from tracking.db import make_engine, make_session_factory
from web.worker.serve import gunicorn_command

ROOT = Path(__file__).resolve().parents[2]
PG_ENV = "SILKWAY_TEST_POSTGRES_URL"


def postgres_admin_url() -> str | None:
    """The PostgreSQL server the tests may use, or None (then PostgreSQL tests skip)."""
    return os.environ.get(PG_ENV)


@contextlib.contextmanager
def dedicated_postgres() -> Iterator[tuple[str, str]]:
    """A new, migrated PostgreSQL database of its own; yields (url, name) and drops it afterwards."""
    admin_url = postgres_admin_url()
    assert admin_url, f"{PG_ENV} is not set"
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT", pool_size=1)
    name = f"silkway_rel_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    schema.upgrade(engine)
    engine.dispose()
    try:
        yield url, name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true'))
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def admin_execute(sql: str) -> list[Any]:
    """Run one statement on the PostgreSQL server as the administrator (AUTOCOMMIT); returns rows."""
    admin_url = postgres_admin_url()
    assert admin_url
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT", pool_size=1)
    try:
        with admin.connect() as conn:
            result = conn.execute(text(sql))
            return list(result.all()) if result.returns_rows else []
    finally:
        admin.dispose()


def carrier_key(url: str, code: str = "acme_post") -> str:
    """A fresh carrier key (canonical format) on the database at ``url``."""
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            key = create_key(session, "carrier", carrier=ensure_carrier(session, code, "canonical"))
            session.commit()
    finally:
        engine.dispose()
    return key


def free_port() -> int:
    """An unused TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A live gunicorn on loopback: its base URL, port and master process."""

    base: str
    port: int
    process: subprocess.Popen[bytes]

    def workers(self) -> list[int]:
        """The pids of the master's live worker processes."""
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except OSError:
            return []

    def wait_for_workers(
        self, count: int, exclude: frozenset[int] | set[int] = frozenset(), timeout: float = 30
    ) -> list[int]:
        """Wait until ``count`` workers not in ``exclude`` are up and /healthz answers."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = [p for p in self.workers() if p not in exclude]
            if len(pids) >= count and get(self.base + "/healthz", timeout=2)[0] == 200:
                return pids
            time.sleep(0.05)
        raise AssertionError(f"gunicorn did not bring up {count} workers in {timeout} s")


def get(url: str, timeout: float = 5) -> tuple[int, bytes, str]:
    """GET ``url``: (status, body, content type); status 0 when the connection failed."""
    try:
        with urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read(), resp.headers.get("Content-Type", "")
    except HTTPError as exc:
        return exc.code, exc.read(), exc.headers.get("Content-Type", "")
    except (URLError, OSError):
        return 0, b"", ""


@contextlib.contextmanager
def gunicorn(
    database_url: str,
    workers: int = 1,
    extra_env: dict[str, str] | None = None,
    args: list[str] | None = None,
    log_path: Path | None = None,
) -> Iterator[Server]:
    """gunicorn serving wsgi:app with the project's config on a free loopback port; stopped afterwards.

    Its output goes to ``log_path`` when given (pass ``args=["--log-level", "warning"]`` to see gunicorn's
    warnings), else nowhere."""
    port = free_port()
    metrics_dir = tempfile.mkdtemp(prefix="silkway-rel-metrics-")
    env = {
        **os.environ,
        "SILKWAY_DATABASE_URL": database_url,
        "SILKWAY_RATELIMIT_ENABLED": "false",
        "SILKWAY_LOG_LEVEL": "ERROR",
        "PROMETHEUS_MULTIPROC_DIR": metrics_dir,
        **(extra_env or {}),
    }
    options = ["--log-level", "critical", "--timeout", "60", *(args or [])]
    cmd = gunicorn_command(f"127.0.0.1:{port}", workers, *options)
    log = open(log_path, "ab") if log_path is not None else None  # noqa: SIM115 - closed below
    out = log if log is not None else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=out)
    server = Server(f"http://127.0.0.1:{port}", port, proc)
    try:
        server.wait_for_workers(workers, timeout=60)
        yield server
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        if log is not None:
            log.close()
        shutil.rmtree(metrics_dir, ignore_errors=True)


def canonical_batch(events: list[dict[str, Any]]) -> bytes:
    """A canonical-format request body."""
    return orjson.dumps({"events": events})


def push_batches(
    url: str, key: str, batches: list[bytes], barrier: Any, results: Any, writer: int, log: str | None = None
) -> None:
    """A writer process: build the app on ``url``, wait for the others, POST every batch; report statuses.

    With ``log`` its warnings (a database busy or unavailable, a lock given up) go to that file."""
    import sys

    from web import create_app

    if log is not None:
        sys.stderr = open(log, "w")  # noqa: SIM115 - the process's own stderr until it exits
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "RATELIMIT_ENABLED": False,
            "SECRET_KEY": "t",
            "LOG_LEVEL": "WARNING" if log is not None else "ERROR",
        }
    )
    client = app.test_client()
    client.get("/healthz")
    statuses: list[tuple[int, str]] = []
    barrier.wait(timeout=120)
    for body in batches:
        resp = client.post(
            "/api/v1/carriers/acme_post/events",
            data=body,
            content_type="application/json",
            headers={"Authorization": f"Bearer {key}"},
        )
        statuses.append((resp.status_code, resp.get_data(as_text=True)[:300]))
    app.extensions["silkway.db"].dispose()
    results.put((writer, statuses))
