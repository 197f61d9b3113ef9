"""ETA revisions: publish a new ETA for the parcels in flight whose p50 moved (and tell the merchants)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from routing.eta import EtaEstimate
from tracking.db import read_only
from tracking.eta_models import add_revision, latest_revision_p50, parcels_to_revise
from tracking.webhooks import enqueue_eta_revised
from web.db import unit_of_work
from web.eta.engine import current_engine, estimate

log = logging.getLogger("silkway.eta")

REVISION_THRESHOLD = timedelta(hours=6)


def revise(session: Session, now: datetime, since: datetime) -> int:
    """Store a new ETA revision for parcels in flight whose p50 moved, or that have none yet.

    The estimates are worked out in a read-only transaction and written in a short one afterwards, so
    that on SQLite the minutes of Monte Carlo never hold the write lock.
    """
    changed: list[tuple[int, EtaEstimate, datetime | None]] = []
    with unit_of_work(session):
        read_only(session)
        ids = parcels_to_revise(session, since)
        untold, version = 0, current_engine(session).model.version
        for parcel_id in ids:
            result = estimate(session, parcel_id, now)
            if result is None:
                untold += 1
                continue
            last = latest_revision_p50(session, parcel_id)
            if last is None or abs(result.p50 - last) >= REVISION_THRESHOLD:
                changed.append((parcel_id, result, last))
    if ids:
        log.info(
            "ETA revisions (model %s): %d parcels in flight touched lately, %d revised, %d without an ETA",
            version, len(ids), len(changed), untold,
        )
    try:
        with unit_of_work(session):
            for parcel_id, result, last in changed:
                add_revision(
                    session, parcel_id, now, (result.p10, result.p50, result.p90), result.model_version,
                    result.route,
                )
                _notify_revision(session, parcel_id, result, last)
    except IntegrityError:  # a parcel merged away meanwhile: its revisions went with it
        return 0
    return len(changed)


def _notify_revision(
    session: Session, parcel_id: int, result: EtaEstimate, previous: datetime | None
) -> None:
    body = result.to_dict()
    body["previous_p50"] = previous.isoformat() if previous else None
    enqueue_eta_revised(session, {parcel_id: body})
