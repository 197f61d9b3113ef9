"""The merchants' periodic jobs, run by the scheduler (web/worker/jobs.py): webhooks and stall flags."""

from __future__ import annotations

import time
from datetime import datetime

from flask import Flask

from tracking.stalled import flag_stalled
from tracking.webhook_delivery import OutboxCounts, process_outbox
from web.db import Database
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


def stalled_parcels_job(app: Flask, now: datetime) -> list[int]:
    """Flag parcels silent for longer than usual (queuing ``delayed`` webhooks) and commit."""
    db: Database = app.extensions["silkway.db"]
    with db.session() as session:
        flagged = flag_stalled(session, now, stall_threshold(session))
        session.commit()
    return flagged
