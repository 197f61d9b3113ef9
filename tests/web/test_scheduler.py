"""One active scheduler per database, each job tick run once, failover when the active one dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tracking import models
from tracking.db import make_engine
from web.worker.leadership import Leadership
from web.worker.scheduler import Job, run_job

ROOT = Path(__file__).resolve().parents[2]


def test_only_one_scheduler_leads_until_it_lets_go(db_url):
    first_engine, second_engine = make_engine(db_url), make_engine(db_url)
    first, second = Leadership(first_engine), Leadership(second_engine)
    try:
        assert first.try_acquire()
        assert not second.try_acquire()
        assert first.try_acquire(), "the leader keeps leading"
        first.release()
        assert second.try_acquire()
    finally:
        first.release()
        second.release()
        first_engine.dispose()
        second_engine.dispose()


def test_a_tick_runs_once_even_when_two_schedulers_try(app):
    calls = []
    job = Job("test_job", lambda _app, now: calls.append(now), 60)
    now = datetime(2026, 11, 1, 12, 0, 30, tzinfo=UTC)
    assert run_job(app, job, now) == "ran"
    assert run_job(app, job, now.replace(second=59)) == "skipped"
    assert run_job(app, job, now.replace(minute=1)) == "ran"
    assert len(calls) == 2


def test_a_failing_job_is_recorded_and_does_not_stop_the_next_tick(app):
    def boom(_app, _now):
        raise RuntimeError("carrier feed down")

    job = Job("failing_job", boom, 60)
    assert run_job(app, job, datetime(2026, 11, 1, 12, 0, tzinfo=UTC)) == "failed"
    assert run_job(app, job, datetime(2026, 11, 1, 12, 1, tzinfo=UTC)) == "failed"
    with app.app_context():
        session = app.extensions["silkway.db"].session()
        rows = session.scalars(select(models.JobTick).where(models.JobTick.job == "failing_job")).all()
        assert [r.status for r in rows] == ["failed", "failed"]
        assert "carrier feed down" in (rows[0].error or "")
        session.close()


def _start_scheduler(db_url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SILKWAY_DATABASE_URL": db_url, "SILKWAY_JOB_ETA_REFRESH_SECONDS": "3600"}
    with log.open("wb") as handle:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "web.cli", "scheduler", "--poll", "0.3"],
            cwd=ROOT,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )


def _wait_for(path: Path, text: str, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow
def test_standby_takes_over_when_the_active_scheduler_is_killed(db_url, tmp_path):
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first = _start_scheduler(db_url, first_log)
    try:
        assert _wait_for(first_log, "this scheduler is active"), first_log.read_text()
        second = _start_scheduler(db_url, second_log)
        try:
            assert _wait_for(second_log, "standing by"), second_log.read_text()
            assert "this scheduler is active" not in second_log.read_text()
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
            assert _wait_for(second_log, "this scheduler is active"), second_log.read_text()
        finally:
            second.terminate()
            second.wait(timeout=20)
    finally:
        if first.poll() is None:
            first.kill()
    engine = make_engine(db_url)
    with engine.connect() as conn:
        per_tick = conn.execute(
            select(models.JobTick.job, models.JobTick.tick, func.count())
            .group_by(models.JobTick.job, models.JobTick.tick)
            .having(func.count() > 1)
        ).all()
    engine.dispose()
    assert per_tick == []


def test_every_periodic_job_is_scheduled_with_configurable_intervals(app):
    from web.worker.jobs import all_jobs

    app.config["JOB_WEBHOOK_OUTBOX_SECONDS"] = 11
    jobs = {job.name: job.seconds for job in all_jobs(app)}
    assert set(jobs) == {
        "eta_refresh", "eta_revisions", "webhook_outbox", "stalled_parcels", "carrier_feeds", "retention",
        "connectors", "notifications", "partitions",
    }
    assert jobs["webhook_outbox"] == 11


def test_each_job_runs_through_the_scheduler_on_an_empty_database(app):
    from web.worker.jobs import all_jobs

    now = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    for job in all_jobs(app):
        assert run_job(app, job, now) == "ran", job.name


def test_a_database_gone_after_the_job_leaves_the_scheduler_running(app, monkeypatch, caplog):
    from sqlalchemy.exc import OperationalError

    db = app.extensions["silkway.db"]

    def away(*_args, **_kwargs):
        raise OperationalError("UPDATE job_ticks", {}, Exception("server closed the connection"))

    def job_then_outage(_app, _now):
        monkeypatch.setattr(db, "session", away)

    job = Job("outage_job", job_then_outage, 60)
    assert run_job(app, job, datetime(2026, 11, 1, 12, 0, tzinfo=UTC)) == "ran"
    assert "its tick could not be recorded" in caplog.text


def test_a_job_that_waits_for_another_first_runs_after_its_first_run_ends(app):
    import threading

    from web.worker.scheduler import serve

    order: list[str] = []

    def refresh(_app, _now):
        order.append("refresh begins")
        time.sleep(1.0)
        order.append("refresh ends")

    jobs = [
        Job("test_refresh", refresh, 3600),
        Job("test_revisions", lambda _app, _now: order.append("revisions"), 3600, after="test_refresh"),
        Job("test_other", lambda _app, _now: order.append("other"), 3600),
    ]
    stop = threading.Event()
    scheduler = threading.Thread(target=serve, args=(app, stop), kwargs={"poll_seconds": 0.1, "jobs": jobs})
    scheduler.start()
    try:
        deadline = time.monotonic() + 30
        while "revisions" not in order and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        scheduler.join(timeout=30)
    assert order.index("refresh ends") < order.index("revisions")
    assert order.index("other") < order.index("refresh ends"), "the others do not wait"
    assert order.count("revisions") == 1


def test_the_eta_revisions_first_run_waits_for_the_first_model(app):
    from web.worker.jobs import all_jobs

    after = {job.name: job.after for job in all_jobs(app)}
    assert after["eta_revisions"] == "eta_refresh"
    assert all(after[name] is None for name in after if name != "eta_revisions")


def test_a_scheduler_stopped_during_the_first_run_a_job_waits_for_still_stops(app):
    import threading

    from web.worker.scheduler import serve

    running = threading.Event()

    def refresh(_app, _now):
        running.set()
        time.sleep(1.0)

    jobs = [
        Job("test_slow_refresh", refresh, 3600),
        Job("test_waiting", lambda _app, _now: None, 3600, after="test_slow_refresh"),
    ]
    stop = threading.Event()
    scheduler = threading.Thread(target=serve, args=(app, stop), kwargs={"poll_seconds": 0.1, "jobs": jobs})
    scheduler.start()
    assert running.wait(timeout=30)
    stop.set()  # the shutdown then waits for the refresh, which ends by starting the waiting job
    scheduler.join(timeout=20)
    assert not scheduler.is_alive(), "the scheduler hung in its shutdown"
