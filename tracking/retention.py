"""Retention: what Silkway forgets after a while so that busy tables do not grow without end.

Finished webhook messages (delivered, failed for good, cancelled) and their delivery log, and the
scheduler's job ticks, are kept for a number of days and then deleted in bounded chunks
(``prune_batch``), each committed by the scheduler's job (web/worker/retention.py) as a short
transaction of its own (so a large backlog never holds locks for long). Pending messages are never
touched, whatever their age; events, raw payloads, ETA models and revisions are kept (they are
the parcels' history and the audit trail).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
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


def prune_batch(session: Session, cutoff: datetime, chunk: int = CHUNK) -> Pruned | None:
    """Delete one chunk of what finished before ``cutoff``; flushes only. None once nothing is left.

    Finished outbox messages (with their delivery attempts) go first, then job ticks. The caller commits
    each chunk as a short transaction of its own and asks again (web/worker/retention.py).
    """
    ids = list(
        session.scalars(
            select(models.OutboxMessage.id)
            .where(models.OutboxMessage.state != "pending", models.OutboxMessage.finished_at < cutoff)
            .order_by(models.OutboxMessage.id)
            .limit(chunk)
        )
    )
    if ids:
        attempts = delete(models.WebhookDelivery).where(models.WebhookDelivery.message_id.in_(ids))
        deliveries = _count(session.execute(attempts))
        finished = delete(models.OutboxMessage).where(models.OutboxMessage.id.in_(ids))
        return Pruned(_count(session.execute(finished)), deliveries, 0)
    ids = list(
        session.scalars(
            select(models.JobTick.id)
            .where(models.JobTick.finished_at < cutoff)
            .order_by(models.JobTick.id)
            .limit(chunk)
        )
    )
    if ids:
        return Pruned(0, 0, _count(session.execute(delete(models.JobTick).where(models.JobTick.id.in_(ids)))))
    return None


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
