"""Stalled parcels: no scan for longer than is usual where the parcel is, in the state it is in.

``flag_stalled`` sets ``stalled_at`` on parcels that have gone quiet for longer than the threshold the
caller passes (the scheduler passes one learned from the ETA model's leg-time 95th centiles; the default
is a table by status), queues a ``delayed`` webhook for each newly stalled parcel a merchant owns and a
delay mail for its confirmed subscribers (tracking/mail_outbox.py), and clears the flag of parcels that
have moved since. Only flushes; the caller commits.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tracking import models
from tracking.mail_outbox import enqueue_delays
from tracking.statuses import awaits_recipient
from tracking.webhooks import enqueue, parcel_snapshots, subscribed_parcels

Threshold = Callable[[str | None, str, str], timedelta]
"""Given the network place (or None), status and substatus of a parcel, how long a silence is normal."""

CHUNK = 2000
DONE = ("delivered", "expired")

DEFAULT_BY_STATUS: dict[str, timedelta] = {
    "pending": timedelta(days=5),
    "info_received": timedelta(days=5),
    "in_transit": timedelta(days=7),
    "out_for_delivery": timedelta(days=3),
    "available_for_pickup": timedelta(days=15),
    "delivery_failed": timedelta(days=5),
    "exception": timedelta(days=7),
}
DEFAULT_BY_SUBSTATUS: dict[tuple[str, str], timedelta] = {
    ("in_transit", "customs_processing"): timedelta(days=10),
    ("in_transit", "export_customs"): timedelta(days=10),
    ("in_transit", "line_haul"): timedelta(days=10),
    ("exception", "customs_held"): timedelta(days=10),
}


def default_threshold(place_id: str | None, status: str, substatus: str) -> timedelta:
    """A fixed table by status: 7 days in transit, 10 at customs or on the line haul, 3 out for delivery."""
    return DEFAULT_BY_SUBSTATUS.get((status, substatus)) or DEFAULT_BY_STATUS.get(status, timedelta(days=7))


def flag_stalled(session: Session, now: datetime, threshold: Threshold = default_threshold) -> list[int]:
    """Flag parcels silent for longer than ``threshold``, unflag those that moved; the newly flagged ids."""
    p = models.Parcel
    latest_place = (
        select(models.Location.place_id)
        .join(models.ScanEvent, models.ScanEvent.location_id == models.Location.id)
        .where(models.ScanEvent.parcel_id == p.id)
        .order_by(models.ScanEvent.occurred_at.desc(), models.ScanEvent.id.desc())
        .limit(1)
        .correlate(p)
        .scalar_subquery()
    )
    columns = (p.id, p.status, p.substatus, p.last_event_at, p.ship_at, p.created_at, p.stalled_at)
    limits: dict[tuple[str | None, str, str], timedelta] = {}
    flagged: dict[int, dict[str, Any]] = {}
    cleared: list[int] = []
    after = 0
    while True:
        rows = session.execute(
            select(*columns, latest_place)
            .where(p.id > after, p.status.not_in(DONE))
            .order_by(p.id)
            .limit(CHUNK)
        ).all()
        if not rows:
            break
        after = rows[-1].id
        for parcel_id, status, substatus, last_event_at, ship_at, created_at, stalled_at, place in rows:
            since = last_event_at or max(created_at, ship_at or created_at)
            key = (place, status, substatus)
            if key not in limits:
                limits[key] = threshold(place, status, substatus)
            # A parcel waiting for its recipient to pay duties is not late: it waits for them.
            late = now - since > limits[key] and not awaits_recipient(status, substatus)
            if late and stalled_at is None:
                flagged[parcel_id] = {"since": since, "threshold": limits[key], "place": place}
            elif not late and stalled_at is not None:
                cleared.append(parcel_id)
    for start in range(0, len(cleared), CHUNK):
        session.execute(update(p).where(p.id.in_(cleared[start : start + CHUNK])).values(stalled_at=None))
    ids = sorted(flagged)
    for start in range(0, len(ids), CHUNK):
        session.execute(update(p).where(p.id.in_(ids[start : start + CHUNK])).values(stalled_at=now))
    _announce(session, flagged, now)
    enqueue_delays(session, {parcel_id: _delay(found) for parcel_id, found in flagged.items()}, now)
    session.flush()
    return ids


def _announce(session: Session, flagged: dict[int, dict[str, Any]], now: datetime) -> None:
    """Queue a ``delayed`` webhook for each newly stalled parcel that a merchant owns."""
    snapshots = parcel_snapshots(session, subscribed_parcels(session, flagged, "delayed"))
    data = {
        parcel_id: {
            **snapshot,
            "delay": _delay(flagged[parcel_id]),
        }
        for parcel_id, snapshot in snapshots.items()
    }
    enqueue(session, "delayed", data, now)


def _delay(found: dict[str, Any]) -> dict[str, Any]:
    """What is said of a newly stalled parcel: silent since when, how long is usual there, where."""
    return {
        "silent_since": found["since"].isoformat(),
        "usual_hours": round(found["threshold"].total_seconds() / 3600, 1),
        "place_id": found["place"],
    }
