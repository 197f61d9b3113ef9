"""Retention: what Silkway forgets after a while so that busy tables do not grow without end.

Finished webhook messages (delivered, failed for good, cancelled) and their delivery log, and the
scheduler's job ticks, are kept for a number of days and then deleted in bounded chunks, each in a
short transaction of its own (so a large backlog never holds locks for long). Pending messages are
never touched, whatever their age; events, raw payloads, ETA models and revisions are kept (they are
the parcels' history and the audit trail).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tracking import models

CHUNK = 5000


@dataclass(frozen=True, slots=True)
class Pruned:
    """How many rows a pass deleted."""

    messages: int
    deliveries: int
    job_ticks: int


def prune(session: Session, now: datetime, keep: timedelta) -> Pruned:
    """Delete finished outbox messages, their delivery attempts and job ticks older than ``keep``."""
    cutoff = now - keep
    messages = deliveries = ticks = 0
    while True:
        ids = list(
            session.scalars(
                select(models.OutboxMessage.id)
                .where(models.OutboxMessage.state != "pending", models.OutboxMessage.finished_at < cutoff)
                .order_by(models.OutboxMessage.id)
                .limit(CHUNK)
            )
        )
        if not ids:
            break
        attempts = delete(models.WebhookDelivery).where(models.WebhookDelivery.message_id.in_(ids))
        deliveries += _count(session.execute(attempts))
        finished = delete(models.OutboxMessage).where(models.OutboxMessage.id.in_(ids))
        messages += _count(session.execute(finished))
        session.commit()
    while True:
        ids = list(
            session.scalars(
                select(models.JobTick.id)
                .where(models.JobTick.finished_at < cutoff)
                .order_by(models.JobTick.id)
                .limit(CHUNK)
            )
        )
        if not ids:
            break
        ticks += _count(session.execute(delete(models.JobTick).where(models.JobTick.id.in_(ids))))
        session.commit()
    return Pruned(messages, deliveries, ticks)


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
