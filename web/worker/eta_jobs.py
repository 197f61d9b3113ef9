"""The ETA's periodic jobs, run by the scheduler (web/worker/jobs.py): re-learning the model, revisions."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Flask

from web.eta.learning import LEARNING_MAX_PARCELS, learn
from web.eta.revisions import revise


def refresh_model_job(app: Flask, now: datetime) -> None:
    """Scheduler job: re-learn the leg-time model."""
    limit = int(app.config.get("LEARNING_MAX_PARCELS", LEARNING_MAX_PARCELS))
    with app.extensions["silkway.db"].session() as session:
        learn(session, now, limit=limit)


def revise_etas_job(app: Flask, now: datetime) -> None:
    """Scheduler job: publish ETA revisions for parcels touched since the previous run."""
    since = now - timedelta(seconds=int(app.config.get("JOB_ETA_REVISIONS_SECONDS", 300)) * 2)
    with app.extensions["silkway.db"].session() as session:
        revise(session, now, since)
