"""`silkway serve-demo` on SQLite, as `make demo` runs it right after `silkway demo`: once it is serving,
no process of its own sits on the database's write lock, so the scheduler's ticks and live mode's
truth writes go through instead of waiting out the busy timeout and failing with "database is locked"."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.support import free_port

SCHEDULER_TICK_SECONDS = 5  # webhook_outbox, the scheduler's most frequent job


def _run(args: list[str], cwd: Path, env: dict[str, str], **kwargs: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "web.cli", *args], cwd=cwd, env=env, **kwargs)


def _wait_for(proc: subprocess.Popen[bytes], log: Path, marker: bytes, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while marker not in log.read_bytes():
        assert proc.poll() is None, f"serve-demo exited:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"no {marker!r} from serve-demo:\n{log.read_text()}"
        time.sleep(0.2)


def _finished_tick_after(db: Path, tick: int) -> bool:
    with sqlite3.connect(db, timeout=30) as conn:
        row = conn.execute(
            "SELECT 1 FROM job_ticks WHERE job = 'webhook_outbox' AND tick > ? AND status = 'ok'", (tick,)
        ).fetchone()
    return row is not None


@pytest.mark.slow
def test_serve_demo_leaves_the_sqlite_write_lock_to_the_scheduler_and_live_mode(
    tmp_path: Path, sqlite_template: Path
) -> None:
    (tmp_path / "instance").mkdir()
    db = tmp_path / "instance" / "silkway.db"
    shutil.copy(sqlite_template, db)
    metrics = tempfile.mkdtemp(prefix="silkway-rel-metrics-")
    env = {
        **os.environ,
        "SILKWAY_DATABASE_URL": f"sqlite:///{db}",
        "SILKWAY_RATELIMIT_ENABLED": "false",
        "PROMETHEUS_MULTIPROC_DIR": metrics,
    }
    build = _run(["demo", "--days", "1", "--seed", "7", "--parcels-per-day", "20"], tmp_path, env)
    build.wait(timeout=300)
    assert (tmp_path / "instance" / "demo-keys.json").exists(), "silkway demo did not build the world"
    log = tmp_path / "serve-demo.log"
    with log.open("wb") as out:
        serve = _run(
            ["serve-demo", "--bind", f"127.0.0.1:{free_port()}", "--workers", "1"],
            tmp_path,
            env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_for(serve, log, b"new scans arrive")  # the banner is out, live mode has started
        banner_tick = int(time.time()) // SCHEDULER_TICK_SECONDS
        # A writer of our own, like the scheduler's claim or live mode's truth: it gets the write lock.
        writer = sqlite3.connect(db, timeout=10, isolation_level=None)
        try:
            writer.execute("BEGIN IMMEDIATE")
            writer.execute("ROLLBACK")
        finally:
            writer.close()
        deadline = time.monotonic() + 90
        while not _finished_tick_after(db, banner_tick):
            assert serve.poll() is None, f"serve-demo exited:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"no scheduler tick ran after the banner:\n{log.read_text()}"
            time.sleep(0.5)
        _wait_for(serve, log, b"demo world live from")
    finally:
        serve.send_signal(signal.SIGINT)
        try:
            serve.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait(timeout=10)
        shutil.rmtree(metrics, ignore_errors=True)
    output = log.read_text()
    assert "database is locked" not in output
    assert "could not claim its tick" not in output
    assert "could not record the truth" not in output
