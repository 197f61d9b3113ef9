"""The scheduler's job list: which periodic work runs, and how often (configurable per job)."""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from web.scheduler import Job

DEFAULT_INTERVALS = {
    "eta_refresh": 3600,
    "eta_revisions": 300,
    "webhook_outbox": 5,
    "stalled_parcels": 900,
    "carrier_feeds": 30,
}


def _interval(app: Flask, name: str) -> int:
    return int(app.config.get(f"JOB_{name.upper()}_SECONDS", DEFAULT_INTERVALS[name]))


def all_jobs(app: Flask) -> list[Job]:
    """Every periodic job, with its interval from config ``JOB_<NAME>_SECONDS`` or the default."""
    from web import eta_service

    jobs = [
        Job("eta_refresh", eta_service.refresh_model_job, _interval(app, "eta_refresh")),
        Job("eta_revisions", eta_service.revise_etas_job, _interval(app, "eta_revisions")),
    ]
    jobs.extend(_optional_jobs(app))
    return jobs


def _optional_jobs(app: Flask) -> list[Job]:
    jobs: list[Job] = []
    try:
        from web.merchant_jobs import process_outbox_job, stalled_parcels_job
    except ImportError:
        pass
    else:
        jobs.append(Job("webhook_outbox", process_outbox_job, _interval(app, "webhook_outbox")))
        jobs.append(Job("stalled_parcels", stalled_parcels_job, _interval(app, "stalled_parcels")))
    try:
        from web.pull import poll_feeds_job
    except ImportError:
        pass
    else:
        jobs.append(Job("carrier_feeds", poll_feeds_job, _interval(app, "carrier_feeds")))
    return jobs


def noop(app: Flask, now: datetime) -> None:
    """A job that does nothing (scheduler tests)."""
