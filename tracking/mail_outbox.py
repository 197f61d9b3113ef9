"""The shoppers' mail outbox: what is worth a mail, queued in the change's own unit of work, and the
steps of sending it (claim, record) that the scheduler's ``notifications`` job commits one by one.

Not every scan is worth a mail. A parcel's status and substatus map to a *situation* (``situation``):
arrived in Russia, held at customs (or duty to pay), out for delivery, ready to collect, delivered,
returning to sender; being stalled (tracking/stalled.py) is the delay. A subscription gets a mail when
its parcel's status change enters a situation other than the one it was in (the same situation again,
or scans that change nothing, are no mail; held, released and held again are two); arriving, delivery
and the return are mailed at most once (``sent_kinds``). Mails wait a short window (``COALESCE``)
before they are due, and a change inside the window updates the waiting mail instead of queueing
another, so a burst of scans makes one mail. Only parcels entering a situation are looked up, so the
ingestion of scans that are worth no mail costs no query at all.

Every function over a Session only flushes. Sending: ``claim_batch`` leases due mails (committed before
anything is sent), ``record_sent`` / ``record_failure`` after the SMTP server answered; failures are
retried after 30 s, doubling up to 30 minutes, for three days (a refusal for good stops at once), so a
mail server down for hours loses nothing, and a mail recorded as sent is never claimed again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import Session

from tracking import models
from tracking.webhook_delivery import lease_rows

KINDS = (
    "confirm",
    "arrived",
    "customs",
    "out_for_delivery",
    "ready_to_collect",
    "delivered",
    "delayed",
    "returning",
)
ONCE = frozenset({"arrived", "delivered", "returning"})  # never mailed twice for one parcel
COALESCE = timedelta(seconds=120)
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(minutes=30)
GIVE_UP_AFTER = timedelta(days=3)
CHUNK = 1000

StatusMove = tuple[int, str, str, str, str]
"""A parcel whose status changed: its id, old status and substatus, new status and substatus."""


def situation(status: str, substatus: str | None) -> str | None:
    """The mail-worthy situation of a status (a kind of KINDS), or None for one that is not worth a mail."""
    sub = substatus or ""
    if status == "in_transit" and sub in ("arrived_destination_country", "customs_processing"):
        return "arrived"
    if status == "exception" and sub.startswith("customs"):
        return "customs"  # held, or duty to pay (any customs substatus of an exception)
    if status == "exception" and sub in ("returning", "returned"):
        return "returning"
    return {
        "out_for_delivery": "out_for_delivery",
        "available_for_pickup": "ready_to_collect",
        "delivered": "delivered",
    }.get(status)


def enqueue_mail(
    session: Session,
    subscription_id: int,
    kind: str,
    extra: dict[str, Any],
    now: datetime,
    delay: timedelta | None = COALESCE,
) -> None:
    """Queue one mail for a subscription; flushes. A confirmation is due now (one waiting is enough);
    a notification after ``delay``, merged into one of the subscription's that is still waiting."""
    m = models.MailMessage
    if kind not in KINDS:
        raise ValueError(f"unknown mail kind {kind!r}")
    waiting = select(m).where(
        m.subscription_id == subscription_id,
        m.sent_at.is_(None),
        m.gave_up_at.is_(None),
        m.attempts == 0,
        m.claimed_until.is_(None),
    )
    if kind == "confirm":
        if session.scalars(waiting.where(m.kind == "confirm")).first() is None:
            session.add(
                m(
                    subscription_id=subscription_id,
                    kind=kind,
                    payload="{}",
                    created_at=now,
                    next_attempt_at=now,
                )
            )
        session.flush()
        return
    _queue(session, {subscription_id: (kind, extra)}, now, delay or timedelta(0))


def _queue(
    session: Session, mails: dict[int, tuple[str, dict[str, Any]]], now: datetime, delay: timedelta
) -> int:
    """Queue (or merge into a waiting one) a notification per subscription; the number of new rows."""
    m = models.MailMessage
    ids = sorted(mails)
    waiting: dict[int, tuple[int, str]] = {}
    for start in range(0, len(ids), CHUNK):
        rows = session.execute(
            select(m.subscription_id, m.id, m.payload).where(
                m.subscription_id.in_(ids[start : start + CHUNK]),
                m.kind != "confirm",
                m.sent_at.is_(None),
                m.gave_up_at.is_(None),
                m.attempts == 0,
                m.claimed_until.is_(None),
                m.next_attempt_at > now,
            )
        ).all()
        waiting.update({sub: (mail_id, payload) for sub, mail_id, payload in rows})
    merged: dict[tuple[str, str], list[int]] = {}  # (kind, payload) -> the waiting mails given them
    fresh: list[dict[str, Any]] = []
    for sub in ids:
        kind, extra = mails[sub]
        if sub in waiting:
            mail_id, payload = waiting[sub]
            before = json.loads(payload)
            body = {**before, **extra, "kinds": [*before.get("kinds", []), kind]}
            merged.setdefault((kind, json.dumps(body)), []).append(mail_id)
        else:
            fresh.append(
                {
                    "subscription_id": sub,
                    "kind": kind,
                    "payload": json.dumps({**extra, "kinds": [kind]}),
                    "attempts": 0,
                    "created_at": now,
                    "next_attempt_at": now + delay,
                }
            )
    for (kind, payload), mail_ids in merged.items():  # a batch's parcels mostly say the same
        _update_in(session, m, mail_ids, {"kind": kind, "payload": payload})
    if fresh:
        session.execute(insert(m), fresh)
    session.flush()
    return len(fresh)


def _update_in(session: Session, model: Any, ids: list[int], values: dict[str, Any]) -> None:
    """The same values on many rows, a statement per chunk of ids (not one per row)."""
    for start in range(0, len(ids), CHUNK):
        session.execute(update(model).where(model.id.in_(ids[start : start + CHUNK])).values(values))


def _live_subscriptions(session: Session, parcel_ids: list[int]) -> list[Any]:
    """The confirmed, live subscriptions of the parcels: id, parcel, kinds already queued."""
    s = models.MailSubscription
    found: list[Any] = []
    for start in range(0, len(parcel_ids), CHUNK):
        found += session.execute(
            select(s.id, s.parcel_id, s.sent_kinds).where(
                s.parcel_id.in_(parcel_ids[start : start + CHUNK]),
                s.confirmed_at.is_not(None),
                s.unsubscribed_at.is_(None),
            )
        ).all()
    return found


def enqueue_changes(
    session: Session, changes: Iterable[StatusMove], now: datetime, window: timedelta = COALESCE
) -> int:
    """Queue a mail for each confirmed subscription of the parcels that entered a mail-worthy situation
    (in the ingestion's unit of work; no query at all when no parcel of the batch did); flushes."""
    entered: dict[int, tuple[str, str, str]] = {}
    for parcel_id, old_status, old_sub, status, substatus in changes:
        kind = situation(status, substatus)
        if kind is not None and kind != situation(old_status, old_sub):
            entered[parcel_id] = (kind, status, substatus)
    if not entered:
        return 0
    mails: dict[int, tuple[str, dict[str, Any]]] = {}
    once: dict[str, list[int]] = {}  # sent_kinds -> the subscriptions given them
    for sub_id, parcel_id, sent in _live_subscriptions(session, sorted(entered)):
        kind, status, substatus = entered[parcel_id]
        kinds = [k for k in sent.split(",") if k]
        if kind in ONCE:
            if kind in kinds:
                continue
            once.setdefault(",".join(sorted({*kinds, kind})), []).append(sub_id)
        mails[sub_id] = (kind, {"status": status, "substatus": substatus})
    for sent_kinds, sub_ids in once.items():
        _update_in(session, models.MailSubscription, sub_ids, {"sent_kinds": sent_kinds})
    return _queue(session, mails, now, window) if mails else 0


def enqueue_delays(
    session: Session, delays: dict[int, dict[str, Any]], now: datetime, window: timedelta = COALESCE
) -> int:
    """Queue a ``delayed`` mail for each confirmed subscription of the newly stalled parcels (``delays``:
    what to say of each, JSON-ready); flushes."""
    mails = {
        sub_id: ("delayed", delays[parcel_id])
        for sub_id, parcel_id, _ in _live_subscriptions(session, sorted(delays))
    }
    return _queue(session, mails, now, window) if mails else 0


@dataclass(frozen=True, slots=True)
class ClaimedMail:
    """A mail leased for sending, with what it needs: whom, in which language, about which parcel."""

    id: int
    kind: str
    payload: str
    attempts: int
    created_at: datetime
    parcel_id: int
    email: str
    language: str
    token: str

    def details(self) -> dict[str, Any]:
        """The JSON the mail was queued with."""
        body: dict[str, Any] = json.loads(self.payload)
        return body


def claim_batch(session: Session, now: datetime, batch: int, lease: timedelta) -> list[ClaimedMail]:
    """Lease up to ``batch`` due mails until ``now + lease``; flushes only (the caller commits before
    sending). Mails of an ended or unconfirmed subscription (but its confirmation) are never due."""
    m, s = models.MailMessage, models.MailSubscription
    query = (
        select(m.id)
        .join(s, s.id == m.subscription_id)
        .where(
            m.sent_at.is_(None),
            m.gave_up_at.is_(None),
            m.next_attempt_at <= now,
            or_(m.claimed_until.is_(None), m.claimed_until <= now),
            s.unsubscribed_at.is_(None),
            s.email.is_not(None),
            or_(m.kind == "confirm", s.confirmed_at.is_not(None)),
        )
        .order_by(m.next_attempt_at, m.id)
        .limit(batch)
    )
    ids = lease_rows(session, query, m, now + lease)
    if not ids:
        return []
    rows = session.execute(
        select(m.id, m.kind, m.payload, m.attempts, m.created_at, s.parcel_id, s.email, s.language, s.token)
        .join(s, s.id == m.subscription_id)
        .where(m.id.in_(ids))
        .order_by(m.next_attempt_at, m.id)
    ).all()
    session.flush()
    return [ClaimedMail(*row[:6], row[6] or "", *row[7:]) for row in rows]


def retry_delay(attempt: int) -> timedelta:
    """How long to wait after the ``attempt``-th failure: 30 s, doubling, at most 30 minutes."""
    return min(FIRST_RETRY * (1 << max(attempt - 1, 0)), MAX_RETRY)


def record_sent(session: Session, mail: ClaimedMail, now: datetime) -> str:
    """The server took the mail: it is never sent again; flushes. Returns "sent"."""
    m = models.MailMessage
    values = {"sent_at": now, "attempts": mail.attempts + 1, "claimed_until": None, "last_error": None}
    session.execute(update(m).where(m.id == mail.id).values(values))
    session.flush()
    return "sent"


def record_failure(session: Session, mail: ClaimedMail, error: str, permanent: bool, now: datetime) -> str:
    """The attempt failed: "retrying" later, or "given_up" (refused for good, or older than three days).
    ``error`` must not hold the address; flushes."""
    attempt = mail.attempts + 1
    values: dict[str, Any] = {"attempts": attempt, "claimed_until": None, "last_error": error[:500]}
    if permanent or now - mail.created_at >= GIVE_UP_AFTER:
        outcome = "given_up"
        values["gave_up_at"] = now
    else:
        outcome = "retrying"
        values["next_attempt_at"] = now + retry_delay(attempt)
    session.execute(update(models.MailMessage).where(models.MailMessage.id == mail.id).values(values))
    session.flush()
    return outcome
