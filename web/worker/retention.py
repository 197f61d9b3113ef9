"""Scheduler job: forget finished webhook messages and job ticks after ``RETENTION_DAYS`` (default 30)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import Flask

from tracking.retention import Pruned, prune

log = logging.getLogger("silkway.retention")
DEFAULT_DAYS = 30


def prune_job(app: Flask, now: datetime) -> Pruned:
    """Delete what is past its retention; logs the counts."""
    keep = timedelta(days=float(app.config.get("RETENTION_DAYS", DEFAULT_DAYS)))
    with app.extensions["silkway.db"].session() as session:
        pruned = prune(session, now, keep)
    log.info(
        "retention: deleted %d webhook messages, %d delivery attempts, %d job ticks older than %s",
        pruned.messages, pruned.deliveries, pruned.job_ticks, keep,
    )
    return pruned
