"""The ETA logs agree with the answers: on a demo world, a parcel that the prior model cannot tell is
logged as having no ETA, and says why; once the model is learned (which the scheduler now does before the
first revisions), the revision job and the lookups both answer it from the milestone model, log that, and
give the same ETA."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from routing.eta import EtaAnswer
from tracking import models
from tracking.events import as_utc
from tracking.queries import public_parcel
from web.demo.build import build
from web.eta.engine import forget_engine
from web.eta.lookup import parcel_eta
from web.eta.revisions import revise
from web.worker.eta_jobs import refresh_model_job

# A world this size and end has parcels scanned at a city with no route onward (ru_kazan, ru_moscow...):
# the Monte Carlo cannot place them and only the learned milestone model tells them.
NOW = datetime(2026, 10, 20, 6, 0, tzinfo=UTC)
WORLD = {"days": 18, "seed": 7, "parcels_per_day": 20, "now": NOW}
SINCE = NOW - timedelta(days=365)
UNTOLD = re.compile(r"no ETA for parcel (\d+) \(model ([^)]+)\): (.*)")
TOLD = re.compile(r"ETA for parcel (\d+) from (.*) \(model ([^)]+)\)")


def _logged(caplog: pytest.LogCaptureFixture, pattern: re.Pattern[str]) -> dict[int, tuple[str, ...]]:
    found = (pattern.fullmatch(r.getMessage()) for r in caplog.records if r.name == "silkway.eta")
    return {int(m.group(1)): m.groups()[1:] for m in found if m}


def _revise(app: Flask) -> None:
    with app.app_context(), app.extensions["silkway.db"].session() as session:
        revise(session, NOW, SINCE)


def _number(app: Flask, parcel_id: int) -> str:
    with app.app_context(), app.extensions["silkway.db"].session() as session:
        number = session.scalar(
            select(models.Identifier.number).where(models.Identifier.parcel_id == parcel_id).limit(1)
        )
    assert number is not None
    return number


def _lookup(app: Flask, number: str) -> EtaAnswer | None:
    """The lookups' own path (the public view, as the API's parcel answer and /track use it), at NOW."""
    with app.app_context(), app.extensions["silkway.db"].session() as session:
        view = public_parcel(session, number)
        assert view is not None
        return parcel_eta(session, view, as_of=NOW)


def test_a_parcel_logged_without_an_eta_gets_a_truthful_log_and_the_api_shows_its_eta(
    app: Flask, client: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    build(app, keys_path=tmp_path / "demo-keys.json", **WORLD)
    forget_engine()
    caplog.set_level(logging.DEBUG, logger="silkway.eta")

    # The revisions with the prior, as the scheduler's first run did while the first model was learned.
    _revise(app)
    untold = _logged(caplog, UNTOLD)
    assert untold, "the world has parcels the prior model cannot tell"
    for model, why in untold.values():
        assert model == "prior"
        assert why.startswith("no milestone model learned yet, and the Monte Carlo run found no route from")
    as_of = {"as_of": NOW.isoformat()}
    # Under that model the answers agree with the log: no ETA.
    first = min(untold)
    assert client.get(f"/api/v1/parcels/{_number(app, first)}/eta", query_string=as_of).status_code == 404
    assert _lookup(app, _number(app, first)) is None

    caplog.clear()
    refresh_model_job(app, NOW)
    _revise(app)
    with app.app_context(), app.extensions["silkway.db"].session() as session:
        version = session.scalar(select(models.EtaModel.version).order_by(models.EtaModel.id.desc()).limit(1))
        revisions = {
            r.parcel_id: r for r in session.scalars(select(models.EtaRevision).where(
                models.EtaRevision.parcel_id.in_(list(untold))
            ))
        }
    told = _logged(caplog, TOLD)
    still_untold = _logged(caplog, UNTOLD)
    now_told = [pid for pid in untold if pid in told]
    assert now_told, "the learned model tells the parcels the prior could not"
    for pid in now_told:
        assert told[pid] == ("the milestone model", version)
        assert pid not in still_untold
        number = _number(app, pid)
        answer = client.get(f"/api/v1/parcels/{number}/eta", query_string=as_of)
        assert answer.status_code == 200
        body = answer.get_json()
        assert body["model"]["version"] == version
        assert datetime.fromisoformat(body["p50"]) == as_utc(revisions[pid].p50)
        caplog.clear()
        looked_up = _lookup(app, number)
        assert looked_up is not None and looked_up.estimate.p50 == datetime.fromisoformat(body["p50"])
        assert _logged(caplog, TOLD)[pid] == ("the milestone model", version)
    # And every parcel still without an ETA is one the answers have none for either.
    for pid, (model, why) in still_untold.items():
        assert model == version
        assert why.startswith("the milestone model has no curve for its latest milestone")
        assert _lookup(app, _number(app, pid)) is None
