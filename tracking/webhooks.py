"""Merchant webhooks: subscriptions, and the outbox messages written with each change they report.

Pure over a Session. Messages go to the outbox in the transaction of the change (``enqueue_*`` only
flush), so no change is lost and none is announced without having happened. Delivering them (signing,
retries, the delivery log) is tracking/webhook_delivery.py.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from tracking import models
from tracking.ingest import StatusChange
from tracking.types import utcnow
from tracking.webhook_signing import new_secret

EVENTS = ("status_changed", "eta_revised", "delayed")
Resolver = Callable[[str, int], list[str]]


class WebhookError(ValueError):
    """A subscription request that cannot be accepted; ``field`` names the part at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def is_public_address(address: str) -> bool:
    """True when an IP address is globally routable (not private, loopback, link-local or reserved)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_target_url(url: str, resolve: Resolver, allow_private: bool = False) -> str:
    """The URL if webhooks may be sent there: http(s), and a host that resolves to public addresses only."""
    url = (url or "").strip()
    if not url or len(url) > 2000 or any(ch.isspace() for ch in url):
        raise WebhookError("url", "url must be an absolute http or https URL of at most 2000 characters")
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed "[" of an IPv6 host
        raise WebhookError("url", "url is not a valid URL") from None
    if parts.scheme not in {"http", "https"}:
        raise WebhookError("url", "url must use https (or http)")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise WebhookError("url", "url has an invalid port") from None
    host = parts.hostname
    if not host:
        raise WebhookError("url", "url has no host")
    if parts.username or parts.password:
        raise WebhookError("url", "url must not carry a user name or password; sign requests instead")
    if allow_private:
        return url
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError, ValueError):
        raise WebhookError("url", f"the host {host!r} does not resolve") from None
    if not addresses:
        raise WebhookError("url", f"the host {host!r} does not resolve")
    for address in addresses:
        if not is_public_address(address):
            raise WebhookError(
                "url",
                f"the host {host!r} resolves to {address}, a private, loopback, link-local or reserved "
                "address; webhooks are only sent to public addresses",
            )
    return url


def check_events(events: Sequence[str] | None) -> list[str]:
    """The subscribed events in canonical order (all of them when none are named)."""
    if events is None:
        return list(EVENTS)
    if isinstance(events, str) or not isinstance(events, Sequence) or not events:
        raise WebhookError("events", f"events must be a non-empty list of: {', '.join(EVENTS)}")
    for index, name in enumerate(events):
        if name not in EVENTS:
            raise WebhookError(
                f"events[{index}]", f"unknown event {name!r}; expected one of {', '.join(EVENTS)}"
            )
    return [name for name in EVENTS if name in events]


def create_subscription(
    session: Session, merchant_id: int, url: str, events: Sequence[str], description: str | None = None
) -> models.WebhookSubscription:
    """Store a subscription (URL and events already checked) with a new signing secret; only flushes."""
    subscription = models.WebhookSubscription(
        merchant_id=merchant_id,
        url=url,
        events=",".join(events),
        secret=new_secret(),
        description=(description or None) and description[:200],
    )
    session.add(subscription)
    session.flush()
    return subscription


def subscriptions(session: Session, merchant_id: int) -> list[models.WebhookSubscription]:
    """The merchant's live subscriptions, oldest first."""
    query = (
        select(models.WebhookSubscription)
        .where(
            models.WebhookSubscription.merchant_id == merchant_id,
            models.WebhookSubscription.deleted_at.is_(None),
        )
        .order_by(models.WebhookSubscription.id)
    )
    return list(session.scalars(query))


def find_subscription(
    session: Session, merchant_id: int, subscription_id: int
) -> models.WebhookSubscription | None:
    """The merchant's live subscription with this id; None for another merchant's or a deleted one."""
    row = session.get(models.WebhookSubscription, subscription_id)
    if row is None or row.merchant_id != merchant_id or row.deleted_at is not None:
        return None
    return row


def delete_subscription(session: Session, subscription: models.WebhookSubscription, now: datetime) -> None:
    """Stop a subscription; its pending messages are cancelled, its delivery log is kept. Only flushes."""
    subscription.deleted_at = now
    session.execute(
        update(models.OutboxMessage)
        .where(
            models.OutboxMessage.subscription_id == subscription.id,
            models.OutboxMessage.state == "pending",
        )
        .values(state="cancelled", finished_at=now)
    )
    session.flush()


def parcel_snapshots(session: Session, parcel_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The merchant-facing JSON of owned parcels, read fresh from the database, keyed by parcel id."""
    ids = sorted(set(parcel_ids))
    if not ids:
        return {}
    p = models.Parcel.__table__.c
    out: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        rows = session.execute(
            select(
                p.id,
                p.merchant_id,
                p.reference,
                p.status,
                p.substatus,
                p.status_at,
                p.last_event_at,
                p.origin,
                p.destination,
                p.service,
                p.stalled_at,
            ).where(p.id.in_(chunk), p.merchant_id.is_not(None))
        ).all()
        numbers: dict[int, list[str]] = {}
        i = models.Identifier.__table__.c
        for parcel_id, number in session.execute(
            select(i.parcel_id, i.number).where(i.parcel_id.in_(chunk)).order_by(i.id)
        ):
            numbers.setdefault(parcel_id, []).append(number)
        for row in rows:
            own = numbers.get(row.id, [])
            out[row.id] = {
                "merchant_id": row.merchant_id,
                "parcel": {
                    "id": row.id,
                    "tracking_number": own[0] if own else None,
                    "identifiers": own,
                    "reference": row.reference,
                    "status": row.status,
                    "substatus": row.substatus,
                    "status_at": _iso(row.status_at),
                    "last_event_at": _iso(row.last_event_at),
                    "origin": row.origin,
                    "destination": row.destination,
                    "service": row.service,
                    "delayed": row.stalled_at is not None,
                },
            }
    return out


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _subscribers(session: Session, merchant_ids: Iterable[int], event: str) -> dict[int, list[int]]:
    wanted = sorted(set(merchant_ids))
    if not wanted:
        return {}
    s = models.WebhookSubscription
    rows = session.execute(
        select(s.id, s.merchant_id, s.events)
        .where(s.merchant_id.in_(wanted), s.deleted_at.is_(None))
        .order_by(s.id)
    ).all()
    found: dict[int, list[int]] = {}
    for sub_id, merchant_id, events in rows:
        if event in events.split(","):
            found.setdefault(merchant_id, []).append(sub_id)
    return found


def subscribed_parcels(session: Session, parcel_ids: Iterable[int], event: str) -> list[int]:
    """Those of the parcels whose merchant has a live subscription to ``event`` (cheap when none has)."""
    s = models.WebhookSubscription
    rows = session.execute(select(s.merchant_id, s.events).where(s.deleted_at.is_(None))).all()
    merchants = sorted({merchant_id for merchant_id, events in rows if event in events.split(",")})
    ids = sorted(set(parcel_ids))
    if not merchants or not ids:
        return []
    p = models.Parcel.__table__.c
    found: list[int] = []
    for start in range(0, len(ids), 1000):
        query = select(p.id).where(p.id.in_(ids[start : start + 1000]), p.merchant_id.in_(merchants))
        found += session.scalars(query).all()
    return found


def enqueue(
    session: Session, event: str, data_by_parcel: dict[int, dict[str, Any]], now: datetime | None = None
) -> int:
    """Write one message per parcel and matching subscription (``data`` holds ``merchant_id``); flushes."""
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    now = now or utcnow()
    subscribers = _subscribers(session, (d["merchant_id"] for d in data_by_parcel.values()), event)
    rows: list[dict[str, Any]] = []
    for parcel_id, data in data_by_parcel.items():
        payload = json.dumps(
            {k: v for k, v in data.items() if k != "merchant_id"}, separators=(",", ":"), ensure_ascii=False
        )
        for subscription_id in subscribers.get(data["merchant_id"], []):
            rows.append(
                {
                    "subscription_id": subscription_id,
                    "parcel_id": parcel_id,
                    "event": event,
                    "payload": payload,
                    "state": "pending",
                    "attempts": 0,
                    "created_at": now,
                    "next_attempt_at": now,
                }
            )
    if rows:
        session.execute(insert(models.OutboxMessage), rows)
    return len(rows)


def enqueue_status_changes(
    session: Session, changes: Sequence[StatusChange], now: datetime | None = None
) -> int:
    """Queue ``status_changed`` for each changed parcel a merchant owns and has subscribed for."""
    wanted = subscribed_parcels(session, (c.parcel_id for c in changes), "status_changed")
    if not wanted:
        return 0
    snapshots = parcel_snapshots(session, wanted)
    data: dict[int, dict[str, Any]] = {}
    for change in changes:
        snapshot = snapshots.get(change.parcel_id)
        if snapshot is None:
            continue
        data[change.parcel_id] = {
            **snapshot,
            "previous": {
                "status": change.old.status.value,
                "substatus": change.old.substatus,
                "status_at": _iso(change.old.at),
            },
        }
    return enqueue(session, "status_changed", data, now)


def enqueue_eta_revised(
    session: Session, etas: dict[int, dict[str, Any]], now: datetime | None = None
) -> int:
    """Queue ``eta_revised`` with each parcel's new ETA (JSON-ready: p10, p50, p90, ...); flushes."""
    snapshots = parcel_snapshots(session, subscribed_parcels(session, etas, "eta_revised"))
    data = {pid: {**snap, "eta": etas[pid]} for pid, snap in snapshots.items()}
    return enqueue(session, "eta_revised", data, now)


PING = "ping"  # the event of a test delivery: asked by the merchant, never queued by a change


def enqueue_ping(session: Session, subscription: models.WebhookSubscription, now: datetime) -> int:
    """Queue a signed test delivery (event ``ping``, no parcel) to the subscription, due at once; the
    outbox sends it like any event (tracking/webhook_delivery.py). Flushes; returns the message id."""
    payload = json.dumps(
        {
            "webhook": {"id": subscription.id, "url": subscription.url},
            "message": "A test delivery from Silkway: your endpoint is reachable and verifies signatures.",
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )
    message = models.OutboxMessage(
        subscription_id=subscription.id,
        parcel_id=None,
        event=PING,
        payload=payload,
        state="pending",
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )
    session.add(message)
    session.flush()
    return message.id
