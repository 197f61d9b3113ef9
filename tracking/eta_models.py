"""ETA storage: the parcels to learn from or revise, stored models and a parcel's published revisions.

Pure over a Session: these functions read, add and flush, and never commit; the caller's unit of work
does (web.db.commit_unit). Model bodies are the JSON of routing.model.LegTimeModel.to_dict().
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracking import models
from tracking.types import utcnow


def parcels_seen_since(session: Session, since: datetime, until: datetime | None = None) -> list[int]:
    """The ids, ascending, of the parcels whose latest event is at or after ``since`` (to learn from) and,
    with ``until``, whose first event is at or before it (a parcel first scanned later is not known then)."""
    query = select(models.Parcel.id).where(models.Parcel.last_event_at >= since)
    if until is not None:
        query = query.where(models.Parcel.first_event_at <= until)
    return list(session.scalars(query.order_by(models.Parcel.id)))


def parcels_to_revise(session: Session, since: datetime) -> list[int]:
    """The ids of the parcels not delivered nor expired that were updated at or after ``since``."""
    return list(
        session.scalars(
            select(models.Parcel.id).where(
                models.Parcel.updated_at >= since, models.Parcel.status.not_in(["delivered", "expired"])
            )
        )
    )


def newest_model(session: Session, learned_by: datetime | None = None) -> tuple[str, int] | None:
    """The version and id of the newest stored ETA model (learned as of the latest moment; of two, the
    last stored), or None while none has been learned; with ``learned_by``, of the newest learned at or
    before it (None when every stored model was learned later). A replay (``eta refresh --as-of`` a past
    moment) so never becomes the model of answers now."""
    learned_at = func.coalesce(models.EtaModel.learned_at, models.EtaModel.created_at)
    query = select(models.EtaModel.version, models.EtaModel.id)
    if learned_by is not None:
        query = query.where(learned_at <= learned_by)
    row = session.execute(query.order_by(learned_at.desc(), models.EtaModel.id.desc()).limit(1)).first()
    return (row[0], row[1]) if row is not None else None


def model_body(session: Session, model_id: int) -> dict[str, Any]:
    """The stored body of the ETA model ``model_id`` as JSON data ({} when it has none)."""
    body = session.scalar(select(models.EtaModel.body).where(models.EtaModel.id == model_id))
    data: dict[str, Any] = orjson.loads(body or b"{}")
    return data


def store_model(
    session: Session,
    version: str,
    learned_from: int,
    body: dict[str, Any],
    learned_at: datetime | None = None,
) -> bool:
    """Add the ETA model ``version``, learned as of ``learned_at`` (the end of its window; now when not
    given), unless one of that version is stored already; True if it was added."""
    exists = session.scalar(select(func.count()).where(models.EtaModel.version == version))
    if exists:
        return False
    session.add(models.EtaModel(version=version, learned_from=learned_from, body=orjson.dumps(body),
                                learned_at=learned_at or utcnow()))
    session.flush()
    return True


def latest_revision_p50(session: Session, parcel_id: int) -> datetime | None:
    """The p50 of the parcel's latest published ETA revision, or None when it has none."""
    return session.execute(
        select(models.EtaRevision.p50)
        .where(models.EtaRevision.parcel_id == parcel_id)
        .order_by(models.EtaRevision.computed_at.desc())
        .limit(1)
    ).scalar()


def add_revision(
    session: Session,
    parcel_id: int,
    computed_at: datetime,
    quantiles: tuple[datetime, datetime, datetime],
    model_version: str,
    route: list[str],
) -> None:
    """Add an ETA revision of a parcel (p10, p50, p90 and the route ahead) to the session; no flush."""
    p10, p50, p90 = quantiles
    session.add(
        models.EtaRevision(
            parcel_id=parcel_id,
            computed_at=computed_at,
            p10=p10,
            p50=p50,
            p90=p90,
            model_version=model_version,
            route=",".join(route),
        )
    )
