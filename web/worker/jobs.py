"""The scheduler's job list: which periodic work runs, and how often (configurable per job)."""

from __future__ import annotations

from flask import Flask

from web.connectors import drain as connectors
from web.feeds import pull
from web.worker import eta_jobs, mail_jobs, merchant_jobs, partition_jobs
from web.worker import retention as retention_job
from web.worker.job import Job

DEFAULT_INTERVALS = {
    "eta_refresh": 3600,
    "eta_revisions": 300,
    "webhook_outbox": 5,
    "stalled_parcels": 900,
    "carrier_feeds": 30,
    "retention": 86400,
    "notifications": 15,
    "connectors": 10,
    "partitions": 86400,
}


def _interval(app: Flask, name: str) -> int:
    return int(app.config.get(f"JOB_{name.upper()}_SECONDS", DEFAULT_INTERVALS[name]))


def all_jobs(app: Flask) -> list[Job]:
    """Every periodic job, with its interval from config ``JOB_<NAME>_SECONDS`` or the default."""
    funcs = {
        "eta_refresh": eta_jobs.refresh_model_job,
        "eta_revisions": eta_jobs.revise_etas_job,
        "webhook_outbox": merchant_jobs.process_outbox_job,
        "stalled_parcels": merchant_jobs.stalled_parcels_job,
        "carrier_feeds": pull.poll_feeds_job,
        "retention": retention_job.prune_job,
        "notifications": mail_jobs.notifications_job,
        "connectors": connectors.connectors_job,
        "partitions": partition_jobs.create_partitions_job,
    }
    # The revisions' first run waits for the refresh's: both run at once when the scheduler starts.
    after = {"eta_revisions": "eta_refresh"}
    return [Job(name, func, _interval(app, name), after.get(name)) for name, func in funcs.items()]

