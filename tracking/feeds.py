"""Polled carrier feeds: their configuration, cursors, polling state and Russian Post batch tickets.

Pure over a Session (no network, no Flask): web/feeds/pull.py does the HTTP and calls these to read and
record state. Functions only flush; the caller commits, and a cursor is only ever moved in the
transaction that stores the events it covers.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tracking import models

KINDS = ("cursor", "russian_post")
# The feed format each kind needs its carrier to speak (what ingestion parses the answers with).
KIND_FORMATS = {"cursor": "canonical", "russian_post": "russian_post"}
CLOSED_STATUSES = ("delivered", "expired")
RUSSIAN_POST_NUMBER = re.compile(r"[A-Z]{2}[0-9]{9}[A-Z]{2}|[0-9]{14}")
MAX_ERROR = 1000


class FeedError(ValueError):
    """A feed cannot be configured as asked (unknown kind, bad URL, wrong carrier format)."""


def add_feed(session: Session, carrier: models.Carrier, kind: str, base_url: str) -> models.FeedCursor:
    """Configure (or re-point) the carrier's feed of ``kind``; it becomes due at once."""
    if kind not in KINDS:
        raise FeedError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if carrier.format != KIND_FORMATS[kind]:
        raise FeedError(
            f"a {kind} feed is parsed as {KIND_FORMATS[kind]!r}, but carrier {carrier.code!r} "
            f"speaks {carrier.format!r}"
        )
    url = base_url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 500:
        raise FeedError(f"url must be an http(s) URL of at most 500 characters, not {base_url!r}")
    feed = feed_of(session, carrier.id, kind)
    if feed is None:
        feed = models.FeedCursor(carrier_id=carrier.id, kind=kind, base_url=url, enabled=True, failures=0)
        session.add(feed)
    elif feed.base_url != url:
        # Another server's cursors mean nothing here: start that feed from its beginning.
        feed.base_url, feed.cursor = url, None
    feed.enabled, feed.next_poll_at = True, None
    session.flush()
    return feed


def feed_of(session: Session, carrier_id: int, kind: str) -> models.FeedCursor | None:
    """The carrier's feed of ``kind``, if configured."""
    return session.scalar(
        select(models.FeedCursor).where(
            models.FeedCursor.carrier_id == carrier_id, models.FeedCursor.kind == kind
        )
    )


def all_feeds(session: Session) -> list[models.FeedCursor]:
    """Every configured feed, by carrier code and kind."""
    query = (
        select(models.FeedCursor)
        .join(models.FeedCursor.carrier)
        .order_by(models.Carrier.code, models.FeedCursor.kind)
    )
    return list(session.scalars(query))


def due_feed_ids(session: Session, now: datetime) -> list[int]:
    """Ids of the enabled feeds whose next poll time has come (or that were never polled)."""
    query = (
        select(models.FeedCursor.id)
        .where(
            models.FeedCursor.enabled.is_(True),
            or_(models.FeedCursor.next_poll_at.is_(None), models.FeedCursor.next_poll_at <= now),
        )
        .order_by(models.FeedCursor.id)
    )
    return list(session.scalars(query))


def backoff_seconds(
    failures: int, base: float, cap: float, rand: Callable[[float, float], float] = random.uniform
) -> float:
    """Exponential backoff with full jitter: a random wait up to ``base * 2**(failures-1)``, capped."""
    ceiling = min(cap, base * 2 ** max(0, failures - 1))
    return rand(0.0, ceiling)


def record_success(feed: models.FeedCursor, now: datetime, next_poll_at: datetime) -> None:
    """Note a good poll: the failure count resets."""
    feed.failures = 0
    feed.last_error = None
    feed.last_polled_at = feed.last_success_at = now
    feed.next_poll_at = next_poll_at


def record_failure(feed: models.FeedCursor, now: datetime, error: str, retry_at: datetime) -> None:
    """Note a failed poll and when to try again; the cursor stays where it was."""
    feed.failures += 1
    feed.last_error = error[:MAX_ERROR]
    feed.last_polled_at = now
    feed.next_poll_at = retry_at


def russian_post_numbers(session: Session, carrier: models.Carrier, since: datetime) -> list[str]:
    """Tracking numbers Russian Post can answer for, of parcels not delivered yet created after ``since``.

    A number qualifies if it arrived from this carrier or has a shape Russian Post tracks (a UPU S10
    number such as RA123456789RU or RX747628194CN, or a 14-digit domestic number).
    """
    query = (
        select(models.Identifier.number, models.Identifier.carrier_code)
        .join(models.Parcel, models.Parcel.id == models.Identifier.parcel_id)
        .where(models.Parcel.status.not_in(CLOSED_STATUSES), models.Parcel.created_at >= since)
        .order_by(models.Identifier.id)
    )
    return [
        number
        for number, code in session.execute(query).all()
        if code == carrier.code or RUSSIAN_POST_NUMBER.fullmatch(number)
    ]


def pending_tickets(session: Session, feed_id: int) -> list[models.RussianPostTicket]:
    """The feed's tickets whose answers have not been fetched yet, oldest first."""
    query = (
        select(models.RussianPostTicket)
        .where(models.RussianPostTicket.feed_id == feed_id, models.RussianPostTicket.status == "pending")
        .order_by(models.RussianPostTicket.id)
    )
    return list(session.scalars(query))


def add_ticket(
    session: Session, feed: models.FeedCursor, ticket: str, numbers: int, now: datetime, fetch_after: datetime
) -> models.RussianPostTicket:
    """Remember a ticket Russian Post gave for a batch of numbers."""
    row = models.RussianPostTicket(
        feed_id=feed.id,
        ticket=ticket[:100],
        numbers=numbers,
        status="pending",
        requested_at=now,
        fetch_after=fetch_after,
        attempts=0,
    )
    session.add(row)
    session.flush()
    return row


def expire_stale_tickets(session: Session, feed_id: int, older_than: datetime) -> int:
    """Mark pending tickets requested before ``older_than`` expired (Russian Post keeps answers 32 h)."""
    stale = [t for t in pending_tickets(session, feed_id) if t.requested_at < older_than]
    for ticket in stale:
        ticket.status = "expired"
        ticket.last_error = "no answer within the time Russian Post keeps it"
    session.flush()
    return len(stale)


def later(now: datetime, seconds: float) -> datetime:
    """``now`` plus a number of seconds."""
    return now + timedelta(seconds=seconds)
