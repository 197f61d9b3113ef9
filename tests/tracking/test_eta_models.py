"""ETA storage (tracking/eta_models.py): models stored once per version, revisions newest first, and the
parcels to learn from or revise (SQLite and PostgreSQL). Nothing here commits: the test does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from tracking import models
from tracking.eta_models import (
    add_revision,
    latest_revision_p50,
    model_body,
    newest_model,
    parcels_seen_since,
    parcels_to_revise,
    store_model,
)

NOW = datetime(2026, 11, 15, 9, tzinfo=UTC)


def test_models_are_stored_once_per_version_and_the_newest_is_read_back(session: Session) -> None:
    assert newest_model(session) is None
    assert store_model(session, "v1", 10, {"version": "v1", "legs": []}) is True
    assert store_model(session, "v2", 20, {"version": "v2"}) is True
    assert store_model(session, "v1", 99, {"version": "other"}) is False
    session.commit()
    newest = newest_model(session)
    assert newest is not None and newest[0] == "v2"
    assert model_body(session, newest[1]) == {"version": "v2"}
    assert session.query(models.EtaModel).count() == 2


def test_revisions_read_back_the_latest_p50(session: Session) -> None:
    parcel = models.Parcel(status="in_transit", substatus="departed", last_event_at=NOW)
    session.add(parcel)
    session.flush()
    assert latest_revision_p50(session, parcel.id) is None
    day = timedelta(days=1)
    add_revision(session, parcel.id, NOW, (NOW + day, NOW + 2 * day, NOW + 3 * day), "v1", ["a", "b"])
    add_revision(session, parcel.id, NOW + day, (NOW + day, NOW + 4 * day, NOW + 5 * day), "v1", ["b"])
    session.commit()
    p50 = latest_revision_p50(session, parcel.id)
    assert p50 is not None and p50.replace(tzinfo=UTC) == NOW + 4 * day
    routes = sorted(r.route for r in session.query(models.EtaRevision))
    assert routes == ["a,b", "b"]


def test_parcels_to_learn_from_and_to_revise(session: Session) -> None:
    old, recent, delivered = (
        models.Parcel(status="in_transit", substatus="departed", last_event_at=NOW - timedelta(days=200)),
        models.Parcel(status="in_transit", substatus="departed", last_event_at=NOW),
        models.Parcel(status="delivered", substatus="recipient", last_event_at=NOW),
    )
    session.add_all([old, recent, delivered])
    session.commit()
    assert parcels_seen_since(session, NOW - timedelta(days=120)) == sorted([recent.id, delivered.id])
    touched = parcels_to_revise(session, datetime.now(UTC) - timedelta(hours=1))
    assert sorted(touched) == sorted([old.id, recent.id])
