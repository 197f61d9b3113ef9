"""Lookup ETAs kept per process: the same answer as working it out, and never older than the parcel's
events or the model (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from routing.eta import EtaEngine
from routing.model import LegTimeModel
from tests.conftest import bearer
from tracking import models
from tracking.queries import public_parcel
from web.eta import engine, lookup
from web.eta.cache import EtaCache

NUMBER = "RX747628194CN"


@pytest.fixture(autouse=True)
def _fresh_engine():
    engine.forget_engine()
    yield
    engine.forget_engine()


@pytest.fixture
def computed(monkeypatch):
    """Counts the Monte Carlo runs (EtaEngine.in_flight) made from now on."""
    calls: list[datetime] = []
    real = EtaEngine.in_flight

    def counting(self, track, as_of):
        calls.append(as_of)
        return real(self, track, as_of)

    monkeypatch.setattr(EtaEngine, "in_flight", counting)
    return calls


SHENZHEN = {"name": "Shenzhen", "country": "CN"}
MOSCOW = {"name": "Moscow", "country": "RU"}


def post_scans(client, headers, *scans):
    """Post ``(substatus, at, place)`` scans of NUMBER as carrier acme_post; insist every one is new."""
    events = [
        {
            "tracking_number": NUMBER,
            "status": "in_transit",
            "substatus": sub,
            "occurred_at": at.isoformat(),
            "location": place,
        }
        for sub, at, place in scans
    ]
    resp = client.post("/api/v1/carriers/acme_post/events", json={"events": events}, headers=headers)
    assert resp.status_code == 200 and resp.get_json()["accepted"] == len(events), resp.get_json()


def journey(client, make_key, days_ago=6):
    headers = bearer(make_key("carrier", "acme_post"))
    start = datetime.now(UTC) - timedelta(days=days_ago)
    post_scans(
        client, headers, ("picked_up", start, SHENZHEN), ("departed", start + timedelta(days=1), SHENZHEN)
    )
    return headers, start


def lookup_eta(client):
    resp = client.get(f"/api/v1/parcels/{NUMBER}")
    assert resp.status_code == 200, resp.get_json()
    eta = resp.get_json()["eta"]
    assert eta is not None
    return eta


def worked_out(app, as_of):
    """The ETA worked out afresh (no cache) from the stored events at ``as_of``, as the API writes it."""
    with app.test_request_context("/"):
        session = app.extensions["silkway.db"].session()
        try:
            view = public_parcel(session, NUMBER)
            assert view is not None
            answer = lookup.parcel_eta(session, view, as_of)
            return orjson.loads(orjson.dumps(answer.to_json() if answer is not None else None))
        finally:
            session.close()


def test_a_repeated_lookup_is_the_answer_worked_out_at_its_as_of(app, client, make_key, computed):
    journey(client, make_key)
    first = lookup_eta(client)
    assert len(computed) == 1
    second = lookup_eta(client)
    assert len(computed) == 1, "the second lookup must come from the cache"
    assert second == first
    as_of = datetime.fromisoformat(first["as_of"])
    assert worked_out(app, as_of) == first
    assert len(computed) == 2


def test_the_page_and_the_api_share_the_kept_eta(client, make_key, computed):
    journey(client, make_key)
    lookup_eta(client)
    resp = client.get(f"/track/{NUMBER}?lang=en")
    assert resp.status_code == 200
    assert len(computed) == 1


def test_a_new_event_is_never_answered_from_the_cache(app, client, make_key, computed):
    headers, start = journey(client, make_key)
    before = lookup_eta(client)
    post_scans(client, headers, ("customs_processing", start + timedelta(days=4), MOSCOW))
    after = lookup_eta(client)
    assert len(computed) == 2
    assert after != before
    assert after["route"][0] != before["route"][0]  # the route ahead now starts in Moscow
    assert worked_out(app, datetime.fromisoformat(after["as_of"])) == after


def test_an_event_that_arrives_late_with_an_older_time_also_counts(app, client, make_key, computed):
    headers, start = journey(client, make_key)
    before = lookup_eta(client)
    # Not the newest by time, but new to the parcel: the parcel's latest event is unchanged.
    post_scans(client, headers, ("in_sorting", start + timedelta(hours=12), SHENZHEN))
    after = lookup_eta(client)
    assert len(computed) == 2
    assert datetime.fromisoformat(after["as_of"]) > datetime.fromisoformat(before["as_of"])
    assert worked_out(app, datetime.fromisoformat(after["as_of"])) == after


def test_a_newer_model_is_never_answered_from_the_cache(app, client, make_key, computed, monkeypatch):
    journey(client, make_key)
    before = lookup_eta(client)
    assert before["model"]["version"] == LegTimeModel.prior().version
    # Another process (the scheduler) stores a model; this one notices at its next model check.
    newer = dataclasses.replace(LegTimeModel.prior(), version="20991231T000000Z-test")
    with app.app_context():
        session = app.extensions["silkway.db"].session()
        session.add(
            models.EtaModel(version=newer.version, learned_from=0, body=orjson.dumps(newer.to_dict()))
        )
        session.commit()
        session.close()
    monkeypatch.setattr(engine, "MODEL_CHECK_SECONDS", 0.0)
    after = lookup_eta(client)
    assert len(computed) == 2
    assert after["model"]["version"] == newer.version
    assert worked_out(app, datetime.fromisoformat(after["as_of"])) == after


def test_a_kept_eta_expires(client, make_key, computed, monkeypatch):
    journey(client, make_key)
    lookup_eta(client)
    clock = engine.time.monotonic() + lookup.CACHE_SECONDS
    monkeypatch.setattr(engine.time, "monotonic", lambda: clock)
    lookup_eta(client)
    assert len(computed) == 2


def test_as_of_answers_are_always_worked_out(client, make_key, computed):
    _, start = journey(client, make_key)
    as_of = (start + timedelta(days=2)).isoformat()
    for _ in range(2):
        resp = client.get(f"/api/v1/parcels/{NUMBER}/eta", query_string={"as_of": as_of})
        assert resp.status_code == 200, resp.get_json()
    assert len(computed) == 2


def test_the_cache_can_be_turned_off(app, client, make_key, computed):
    app.config["ETA_CACHE_SECONDS"] = 0  # SILKWAY_ETA_CACHE_SECONDS=0
    journey(client, make_key)
    first, second = lookup_eta(client), lookup_eta(client)
    assert len(computed) == 2
    assert datetime.fromisoformat(second["as_of"]) > datetime.fromisoformat(first["as_of"])


def test_the_cache_keeps_at_most_its_size():
    cache = EtaCache(size=2)
    for parcel in range(3):
        cache.put((parcel, "v", b""), {"p50": parcel})
    assert len(cache) == 2
    assert cache.get((0, "v", b""), 60) == (False, None)
    assert cache.get((2, "v", b""), 60) == (True, {"p50": 2})
