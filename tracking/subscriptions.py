"""Shoppers' e-mail subscriptions to a parcel: double opt-in, one-click unsubscribe, retention.

Pure over a Session; every function only flushes (the door commits through web.db). ``subscribe``
answers the same whether or not the address was already subscribed, so a caller cannot learn it: a new
or unconfirmed subscription gets a confirmation mail (tracking/mail_outbox.py), a confirmed one nothing.
Nothing else is queued for a subscription before it is confirmed. The address is stored for the
notifications only: unsubscribing blanks it and cancels what was queued, and ``prune_batch`` deletes the
subscriptions of parcels whose tracking ended (delivered, expired, returned) longer ago than the
retention period, with their mails.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from tracking import models
from tracking.mail_outbox import enqueue_mail
from tracking.types import utcnow

LANGUAGES = ("ru", "en", "zh")
MAX_ADDRESS = 254  # RFC 5321's limit on a forward path
# One address, no display name: a local part of printable characters other than specials, a dotted domain.
ADDRESS = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
ENDED_SUBSTATUSES = ("returned",)
PRUNE_CHUNK = 1000


class SubscriptionError(ValueError):
    """A subscription request that cannot be accepted; ``field`` names the part at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Subscriber:
    """A valid request: the address in the form it is stored (domain in lower case) and the language."""

    email: str
    language: str


def check_subscriber(email: object, language: object) -> Subscriber:
    """The request's address and language, checked; SubscriptionError naming the field otherwise.

    The error never repeats the address.
    """
    if not isinstance(email, str) or not email.strip():
        raise SubscriptionError("email", "email is required: one e-mail address")
    address = email.strip()
    if len(address) > MAX_ADDRESS or ADDRESS.fullmatch(address) is None:
        raise SubscriptionError("email", "email is not a valid e-mail address (name@example.com)")
    local, _, domain = address.rpartition("@")
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise SubscriptionError("email", "email is not a valid e-mail address (name@example.com)")
    if language is None:
        language = "ru"
    if not isinstance(language, str) or language not in LANGUAGES:
        raise SubscriptionError("language", f"language must be one of: {', '.join(LANGUAGES)}")
    return Subscriber(f"{local}@{domain.lower()}", language)


def new_token() -> str:
    """The capability of a subscription's confirmation and unsubscribe links."""
    return secrets.token_urlsafe(32)


def subscribe(
    session: Session, parcel_id: int, subscriber: Subscriber, now: datetime | None = None
) -> models.MailSubscription:
    """Subscribe the address to the parcel; a confirmation mail is queued unless it is already confirmed
    (then only its language changes). Only flushes."""
    now = now or utcnow()
    s = models.MailSubscription
    row = session.scalars(select(s).where(s.parcel_id == parcel_id, s.email == subscriber.email)).first()
    if row is None:
        row = models.MailSubscription(
            parcel_id=parcel_id,
            email=subscriber.email,
            language=subscriber.language,
            token=new_token(),
            sent_kinds="",
            created_at=now,
        )
        session.add(row)
        session.flush()
    row.language = subscriber.language
    if row.confirmed_at is None:
        enqueue_mail(session, row.id, "confirm", {}, now, delay=None)
    session.flush()
    return row


def by_token(session: Session, token: str) -> models.MailSubscription | None:
    """The live subscription a link's token names, or None."""
    if not token or len(token) > 64:
        return None
    s = models.MailSubscription
    return session.scalars(select(s).where(s.token == token, s.unsubscribed_at.is_(None))).first()


def confirm(session: Session, token: str, now: datetime | None = None) -> models.MailSubscription | None:
    """Confirm the subscription of a link (again is harmless); None for an unknown or ended one.

    Only what happens from then on is mailed.
    """
    row = by_token(session, token)
    if row is None:
        return None
    if row.confirmed_at is None:
        row.confirmed_at = now or utcnow()
        session.flush()
    return row


def unsubscribe(session: Session, token: str, now: datetime | None = None) -> bool:
    """End the subscription of a link: its address is blanked and its unsent mails deleted. Only flushes.

    False when the token names no live subscription (already unsubscribed, or unknown).
    """
    row = by_token(session, token)
    if row is None:
        return False
    m = models.MailMessage
    session.execute(delete(m).where(m.subscription_id == row.id, m.sent_at.is_(None)))
    row.unsubscribed_at = now or utcnow()
    row.email = None
    session.flush()
    return True


def move_subscriptions(session: Session, target: int, others: list[int]) -> None:
    """Parcels ``others`` are merged into ``target``: their subscriptions follow (an address subscribed to
    both keeps the target's). Only flushes."""
    s = models.MailSubscription
    kept = set(session.scalars(select(s.email).where(s.parcel_id == target, s.email.is_not(None))))
    for row in session.scalars(select(s).where(s.parcel_id.in_(others))):
        if row.email is not None and row.email in kept:
            unsubscribe(session, row.token)
        kept.add(row.email or "")
    session.execute(update(s).where(s.parcel_id.in_(others)).values(parcel_id=target))


def prune_batch(session: Session, cutoff: datetime, chunk: int = PRUNE_CHUNK) -> int:
    """Delete one chunk of subscriptions (with their mails) whose parcel's tracking ended before
    ``cutoff``, or that were unsubscribed before it; the number deleted (0 once none is left). Flushes."""
    s, p, m = models.MailSubscription, models.Parcel, models.MailMessage
    ended = or_(p.status.in_(("delivered", "expired")), p.substatus.in_(ENDED_SUBSTATUSES))
    ids = list(
        session.scalars(
            select(s.id)
            .join(p, p.id == s.parcel_id)
            .where(or_(s.unsubscribed_at < cutoff, ended & (p.status_at < cutoff)))
            .order_by(s.id)
            .limit(chunk)
        )
    )
    if not ids:
        return 0
    session.execute(delete(m).where(m.subscription_id.in_(ids)))
    session.execute(delete(s).where(s.id.in_(ids)))
    session.flush()
    return len(ids)


def parcel_number(session: Session, parcel_id: int) -> str | None:
    """The first tracking number of a parcel (its page and its mails are named by it)."""
    i = models.Identifier
    return session.scalar(select(i.number).where(i.parcel_id == parcel_id).order_by(i.id).limit(1))
