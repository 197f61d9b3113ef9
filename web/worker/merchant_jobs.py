"""The merchants' periodic jobs, run by the scheduler (web/worker/jobs.py): webhooks and stall flags."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from functools import partial

from flask import Flask
from sqlalchemy.orm import Session

from tracking.stalled import flag_stalled
from tracking.types import utcnow
from tracking.webhook_delivery import (
    OutboxCounts,
    Sender,
    SendResult,
    claim_batch,
    record_attempt,
    webhook_request,
)
from web.db import Database, commit_unit
from web.eta.stalls import stall_threshold
from web.feeds.webhook_sender import sender_for

OUTBOX_BATCH = 50
OUTBOX_BUDGET_SECONDS = 4.0


def process_outbox_job(app: Flask, now: datetime) -> OutboxCounts:
    """Send due webhook deliveries, batch after batch, for up to a few seconds."""
    db: Database = app.extensions["silkway.db"]
    sender = sender_for(app)
    total = OutboxCounts()
    started = time.monotonic()
    with db.session() as session:
        while True:
            counts = process_outbox(session, sender, now, batch=OUTBOX_BATCH)
            for name in ("claimed", "delivered", "retrying", "failed"):
                setattr(total, name, getattr(total, name) + getattr(counts, name))
            if counts.claimed < OUTBOX_BATCH or time.monotonic() - started > OUTBOX_BUDGET_SECONDS:
                return total


def process_outbox(
    session: Session,
    sender: Sender,
    now: datetime | None = None,
    *,
    batch: int = 50,
    lease: timedelta = timedelta(minutes=15),
) -> OutboxCounts:
    """Send the due messages once each, signed, and record every attempt.

    The claim is one unit of work, committed before anything is sent (no transaction is held over the
    network, and the lease keeps other processors off the claimed messages); each attempt's record is
    another, committed as soon as the receiver has answered.
    """
    now = now or utcnow()
    counts = OutboxCounts()
    claimed = commit_unit(session, lambda: claim_batch(session, now, batch, lease))
    counts.claimed = len(claimed)
    for message in claimed:
        request = webhook_request(message, now)
        try:
            result = sender.send(request)
        except Exception as exc:  # a sender bug must not leave the message claimed and unlogged
            result = SendResult(None, f"{type(exc).__name__}: {exc}")
        outcome = commit_unit(session, partial(record_attempt, session, message, result, now))
        setattr(counts, outcome, getattr(counts, outcome) + 1)
    return counts


def stalled_parcels_job(app: Flask, now: datetime) -> list[int]:
    """Flag parcels silent for longer than usual (queuing ``delayed`` webhooks) and commit."""
    db: Database = app.extensions["silkway.db"]
    with db.session() as session:
        return commit_unit(session, lambda: flag_stalled(session, now, stall_threshold(session)))
