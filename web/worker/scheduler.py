"""The scheduler process (``silkway scheduler``): one active per database, each tick run at most once.

Two guards, as ARCHITECTURE.md asks: leadership (web.worker.leadership) so only one scheduler runs jobs, and a
claim per job tick in the ``job_ticks`` table (unique on job + tick) so that even two schedulers that
both believe they lead — say during a failover — never run the same tick twice.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError, OperationalError

from tracking import models
from web import tracing
from web.db import Database, commit_unit
from web.worker.job import Job
from web.worker.jobs import all_jobs
from web.worker.leadership import Leadership

log = logging.getLogger("silkway.scheduler")

__all__ = ["Job", "claim_tick", "default_jobs", "run_job", "serve"]  # Job: web/worker/job.py


def claim_tick(db: Database, job: Job, now: datetime) -> int | None:
    """Claim this job's current tick; the id of the claim, or None when another scheduler has it."""
    tick = int(now.timestamp()) // job.seconds
    claim = (
        insert(models.JobTick)
        .values(job=job.name, tick=tick, started_at=now, status="running")
        .returning(models.JobTick.id)
    )
    with db.session() as session:
        try:
            # One attempt: a collision means another scheduler has the tick, and a busy database skips it.
            claim_id = commit_unit(session, lambda: session.execute(claim).scalar_one(), retries=1)
        except IntegrityError:
            return None
        except OperationalError:
            # The database is busy or away: skip this tick; the next one tries again.
            log.warning("job %s: could not claim its tick (database busy or unavailable)", job.name)
            return None
    return int(claim_id)


def run_job(app: Flask, job: Job, now: datetime | None = None) -> str:
    """Run one tick of a job if it can be claimed; returns "ran", "skipped" or "failed"."""
    now = now or datetime.now(UTC)
    db: Database = app.extensions["silkway.db"]
    claim = claim_tick(db, job, now)
    if claim is None:
        return "skipped"
    status, error = "ok", None
    started = time.perf_counter()
    try:
        with app.app_context(), tracing.job_span(app, job.name):
            job.func(app, now)
    except Exception as exc:  # a failing job must not stop the scheduler
        log.exception("job %s failed", job.name)
        status, error = "failed", f"{type(exc).__name__}: {exc}"[:500]
    record = (
        update(models.JobTick)
        .where(models.JobTick.id == claim)
        .values(status=status, error=error, finished_at=datetime.now(UTC))
    )
    try:
        with db.session() as session:
            commit_unit(session, lambda: session.execute(record), retries=1)
    except OperationalError as exc:  # the database went away after the job: the tick's row says "running"
        log.warning("job %s finished (%s) but its tick could not be recorded: %s", job.name, status, exc)
    _observe(job.name, status, time.perf_counter() - started)
    return "ran" if status == "ok" else "failed"


def _observe(name: str, status: str, seconds: float) -> None:
    try:
        from web.metrics import JOB_RUNS, JOB_SECONDS
    except ImportError:
        return
    JOB_RUNS.labels(job=name, status=status).inc()
    JOB_SECONDS.labels(job=name).observe(seconds)


def _first_runs_release(
    scheduler: BackgroundScheduler, job: Job, followers: list[str]
) -> Callable[[Flask, Job], str]:
    """``run_job``, which once its first run has ended (ran, skipped or failed) starts ``followers``."""
    if not followers:
        return run_job
    released = threading.Event()

    def start_followers() -> None:
        for name in followers:
            with contextlib.suppress(JobLookupError):  # the scheduler has shut down meanwhile
                scheduler.modify_job(name, next_run_time=datetime.now(UTC))

    def run_then_release(app: Flask, job: Job) -> str:
        try:
            return run_job(app, job)
        finally:
            if not released.is_set():
                released.set()
                # From a thread of its own: a shutdown holds the job stores' lock while it waits for the
                # running jobs, so this job changing a job in the store itself would never end.
                threading.Thread(target=start_followers, daemon=True, name=f"after-{job.name}").start()

    return run_then_release


def default_jobs(app: Flask) -> list[Job]:
    """Every periodic job of Silkway, with intervals from the app's configuration."""
    return all_jobs(app)


def serve(
    app: Flask, stop: threading.Event, poll_seconds: float = 5.0, jobs: list[Job] | None = None
) -> None:
    """Wait to become the active scheduler, then run the jobs until ``stop`` is set or leadership is lost."""
    db: Database = app.extensions["silkway.db"]
    leadership = Leadership(db.engine)
    while not stop.is_set():
        if not leadership.try_acquire():
            log.info("another scheduler is active; standing by")
            stop.wait(poll_seconds)
            continue
        log.info("this scheduler is active")
        _run_while_leading(app, stop, leadership, poll_seconds, jobs or default_jobs(app))
    leadership.release()


def _run_while_leading(
    app: Flask, stop: threading.Event, leadership: Leadership, poll_seconds: float, jobs: list[Job]
) -> None:
    scheduler = BackgroundScheduler(timezone=UTC)
    names = {job.name for job in jobs}
    waiting = {job.name: job.after for job in jobs if job.after in names}  # first run after another's
    for job in jobs:
        followers = [name for name, after in waiting.items() if after == job.name]
        scheduler.add_job(
            _first_runs_release(scheduler, job, followers),
            "interval",
            seconds=job.seconds,
            args=[app, job],
            id=job.name,
            max_instances=1,
            coalesce=True,
            # A waiting job is added paused (no run time) and started by the one it waits for.
            next_run_time=None if job.name in waiting else datetime.now(UTC),
        )
    scheduler.start()
    try:
        while not stop.wait(poll_seconds):
            if not leadership.try_acquire():
                log.warning("lost the scheduler lock; stopping jobs and standing by")
                break
    finally:
        scheduler.shutdown(wait=True)
