"""Delivering merchant webhooks: claim due outbox messages, sign them, log each attempt, retry.

The steps, each over a Session and flushing only: ``claim_batch`` takes due messages under a lease,
``webhook_request`` signs one, ``record_attempt`` logs what the receiver answered. The loop that commits
after the claim and after each attempt, and sends over the network in between (through a ``Sender``,
web/feeds/webhook_sender.py), is the scheduler's job (web/worker/merchant_jobs.py). Several processors
may run at once: on PostgreSQL each claims rows with ``FOR UPDATE SKIP LOCKED`` and a lease; on SQLite
``BEGIN IMMEDIATE`` serialises the claims. Only the oldest pending message of a parcel for a
subscription is ever due, so a receiver gets each parcel's events in order. Failed attempts are retried
after 30 s, doubling up to one hour, for 24 hours; then the message is marked failed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Select, exists, or_, select, update
from sqlalchemy.orm import Session, aliased

from tracking import models
from tracking.webhook_signing import LEGACY_HEADER, signature_header, standard_headers

FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """One signed POST to a merchant's URL; ``at`` is the processor's clock (also in the signature)."""

    url: str
    body: bytes
    headers: dict[str, str]
    at: datetime


@dataclass(frozen=True, slots=True)
class SendResult:
    """What the receiver answered: an HTTP status, or an error when no answer came."""

    status_code: int | None
    error: str | None = None
    duration_ms: int = 0

    @property
    def ok(self) -> bool:
        """True for a 2xx answer."""
        return self.status_code is not None and 200 <= self.status_code < 300


class Sender(Protocol):
    """Sends a webhook request over the network (web/feeds/webhook_sender.py: urllib, or a fake for tests)."""

    def send(self, request: WebhookRequest) -> SendResult:
        """POST the request and report the answer; never raises for network failures."""
        ...


@dataclass(slots=True)
class OutboxCounts:
    """What one run of the processor did."""

    claimed: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0


def retry_delay(attempt: int) -> timedelta:
    """How long to wait after failed attempt number ``attempt``: 30 s doubling, capped at one hour."""
    delay: timedelta = min(FIRST_RETRY * (2 ** max(attempt - 1, 0)), MAX_RETRY)
    return delay


@dataclass(slots=True)
class ClaimedMessage:
    """A message claimed for one delivery attempt, with its subscription's URL and secrets."""

    id: int
    event: str
    payload: str
    created_at: datetime
    attempts: int
    subscription_id: int
    url: str
    secret: str
    legacy_secret: str | None = None


def envelope(message_id: int, event: str, created_at: datetime, payload: str) -> bytes:
    """The body of a delivery: the same bytes on every attempt."""
    head = json.dumps({"id": f"evt_{message_id}", "type": event, "created_at": created_at.isoformat()})
    return (head[:-1] + ',"data":' + payload + "}").encode()


def lease_rows(session: Session, query: Select[Any], model: Any, until: datetime) -> list[int]:
    """The ids ``query`` selects, leased (``claimed_until``) to this processor until ``until``; flushes
    only. On PostgreSQL each processor skips the rows another is claiming (``FOR UPDATE SKIP LOCKED``);
    SQLite's BEGIN IMMEDIATE serialises whole transactions instead."""
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=model)
    ids = list(session.scalars(query))
    if ids:
        session.execute(update(model).where(model.id.in_(ids)).values(claimed_until=until))
    return ids


def claim_batch(session: Session, now: datetime, batch: int, lease: timedelta) -> list[ClaimedMessage]:
    """Take up to ``batch`` due messages, the oldest pending one per (subscription, parcel), leased until
    ``now + lease``; flushes only: the claim holds once the caller commits it (before sending)."""
    m = models.OutboxMessage
    earlier = aliased(m)
    blocked = (
        exists()
        .where(
            earlier.subscription_id == m.subscription_id,
            earlier.parcel_id == m.parcel_id,
            earlier.state == "pending",
            earlier.id < m.id,
        )
        .correlate(m)
    )
    query = (
        select(m.id)
        .where(
            m.state == "pending",
            m.next_attempt_at <= now,
            or_(m.claimed_until.is_(None), m.claimed_until <= now),
            ~blocked,
        )
        .order_by(m.id)
        .limit(batch)
    )
    ids = lease_rows(session, query, m, now + lease)
    if not ids:
        return []
    s = models.WebhookSubscription
    rows = session.execute(
        select(m.id, m.event, m.payload, m.created_at, m.attempts, s.id, s.url, s.secret, s.legacy_secret)
        .join(s, s.id == m.subscription_id)
        .where(m.id.in_(ids))
        .order_by(m.id)
    ).all()
    return [ClaimedMessage(*row) for row in rows]


def webhook_request(message: ClaimedMessage, now: datetime) -> WebhookRequest:
    """The signed POST of one delivery attempt, timestamped ``now``: the Standard Webhooks headers (the
    ``webhook-id`` is the event id, the same on every retry) and the deprecated ``Silkway-Signature``."""
    body = envelope(message.id, message.event, message.created_at, message.payload)
    event_id, timestamp = f"evt_{message.id}", int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Silkway-Webhooks/1",
        **standard_headers(message.secret, event_id, timestamp, body),
        "Silkway-Event-Id": event_id,
        "Silkway-Event-Type": message.event,
        LEGACY_HEADER: signature_header(message.legacy_secret or message.secret, timestamp, body),
    }
    return WebhookRequest(message.url, body, headers, now)


def record_attempt(session: Session, message: ClaimedMessage, result: SendResult, now: datetime) -> str:
    """Log the attempt and move the message on: "delivered", "retrying" (later) or "failed"; flushes only."""
    attempt = message.attempts + 1
    error = None if result.ok else (result.error or f"the receiver answered HTTP {result.status_code}")
    values: dict[str, Any] = {"attempts": attempt, "claimed_until": None, "last_error": error and error[:500]}
    if result.ok:
        outcome = "delivered"
        values.update(state="delivered", finished_at=now)
    elif now - message.created_at >= GIVE_UP_AFTER:
        outcome = "failed"
        values.update(state="failed", finished_at=now)
    else:
        outcome = "retrying"
        values.update(next_attempt_at=now + retry_delay(attempt))
    session.execute(update(models.OutboxMessage).where(models.OutboxMessage.id == message.id).values(values))
    session.add(
        models.WebhookDelivery(
            message_id=message.id,
            subscription_id=message.subscription_id,
            attempt=attempt,
            attempted_at=now,
            status_code=result.status_code,
            error=error and error[:500],
            duration_ms=result.duration_ms,
            succeeded=result.ok,
        )
    )
    session.flush()
    return outcome


@dataclass(frozen=True, slots=True)
class DeliveryEntry:
    """One line of a subscription's delivery log."""

    id: int
    event_id: str
    event: str
    parcel_id: int | None
    attempt: int
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int
    succeeded: bool
    message_state: str


def delivery_log(
    session: Session, subscription_id: int, limit: int = 100, before_id: int | None = None
) -> list[DeliveryEntry]:
    """A subscription's delivery attempts, newest first, ``limit`` at a time before ``before_id``."""
    d, m = models.WebhookDelivery, models.OutboxMessage
    query = (
        select(
            d.id,
            m.id,
            m.event,
            m.parcel_id,
            d.attempt,
            d.attempted_at,
            d.status_code,
            d.error,
            d.duration_ms,
            d.succeeded,
            m.state,
        )
        .join(m, m.id == d.message_id)
        .where(d.subscription_id == subscription_id)
        .order_by(d.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        query = query.where(d.id < before_id)
    return [DeliveryEntry(row[0], f"evt_{row[1]}", *row[2:]) for row in session.execute(query).all()]


class RedeliveryRefused(ValueError):
    """A delivery that cannot be sent again: ``status`` is the HTTP answer (404 unknown, 409 pending)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def redeliver(session: Session, subscription_id: int, delivery_id: int, now: datetime) -> tuple[int, str]:
    """Send the event of a finished delivery again: its message (a failed or delivered one) is due at
    once, the same body and ``webhook-id`` (retries still end 24 hours after the event: a failed one is
    tried once more). Flushes; returns the message id and event. Raises RedeliveryRefused for a
    delivery of another subscription (404) or an event still pending (409)."""
    d, m = models.WebhookDelivery, models.OutboxMessage
    row = session.execute(
        select(m.id, m.state, m.event)
        .join(d, d.message_id == m.id)
        .where(d.id == delivery_id, d.subscription_id == subscription_id)
    ).first()
    if row is None:
        raise RedeliveryRefused(404, f"this webhook has no delivery {delivery_id}")
    message_id, state, event = row
    if state not in {"failed", "delivered"}:
        raise RedeliveryRefused(409, f"the event of delivery {delivery_id} is {state}, not finished")
    session.execute(
        update(m)
        .where(m.id == message_id)
        .values(state="pending", next_attempt_at=now, claimed_until=None, finished_at=None)
    )
    session.flush()
    return int(message_id), str(event)
