"""Scheduler job: forget finished webhook messages and job ticks after ``RETENTION_DAYS`` (default 30),
and shoppers' mail subscriptions ``NOTIFICATION_RETENTION_DAYS`` after their parcel's tracking ended."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import Flask

from tracking.partitions import add_months, drop_before, month_of
from tracking.retention import Pruned, prune_batch
from tracking.subscriptions import prune_batch as prune_subscriptions_batch
from web.db import commit_unit

log = logging.getLogger("silkway.retention")
DEFAULT_DAYS = 30


def prune_job(app: Flask, now: datetime) -> Pruned:
    """Delete what is past its retention, one committed chunk at a time; logs the counts."""
    keep = timedelta(days=float(app.config.get("RETENTION_DAYS", DEFAULT_DAYS)))
    cutoff = now - keep
    messages = deliveries = ticks = 0
    with app.extensions["silkway.db"].session() as session:
        while (chunk := commit_unit(session, lambda: prune_batch(session, cutoff))) is not None:
            messages, deliveries, ticks = (
                messages + chunk.messages, deliveries + chunk.deliveries, ticks + chunk.job_ticks
            )
    pruned = Pruned(messages, deliveries, ticks)
    log.info(
        "retention: deleted %d webhook messages, %d delivery attempts, %d job ticks older than %s",
        pruned.messages, pruned.deliveries, pruned.job_ticks, keep,
    )
    prune_subscriptions(app, now)
    drop_history(app, now)
    return pruned


def drop_history(app: Flask, now: datetime) -> list[str]:
    """PostgreSQL: detach and drop the months of events older than ``HISTORY_RETENTION_MONTHS`` (0 keeps
    them all), whole partitions at a time (tracking/partitions.py); their names."""
    months = int(app.config.get("HISTORY_RETENTION_MONTHS", 0))
    if months <= 0:
        return []
    with app.extensions["silkway.db"].engine.begin() as conn:
        dropped = drop_before(conn, add_months(month_of(now), -months))
    log.info("retention: dropped %d months of events (%s)", len(dropped), ", ".join(dropped) or "none due")
    return dropped


def prune_subscriptions(app: Flask, now: datetime) -> int:
    """Delete shoppers' subscriptions (their addresses) ``NOTIFICATION_RETENTION_DAYS`` after their
    parcel's tracking ended or they were unsubscribed, a committed chunk at a time; logs the count."""
    keep = timedelta(days=float(app.config.get("NOTIFICATION_RETENTION_DAYS", DEFAULT_DAYS)))
    deleted = 0
    with app.extensions["silkway.db"].session() as session:
        while chunk := commit_unit(session, lambda: prune_subscriptions_batch(session, now - keep)):
            deleted += chunk
    log.info("retention: deleted %d mail subscriptions ended before %s ago", deleted, keep)
    return deleted
