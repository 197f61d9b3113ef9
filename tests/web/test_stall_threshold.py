"""Stalled parcels: the threshold is the learned (or prior) p95 of the dwell where the parcel is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from tests.conftest import bearer
from tracking.stalled import default_threshold
from web.eta.engine import forget_engine
from web.eta.stalls import STALL_SLACK, stall_threshold
from web.worker.merchant_jobs import stalled_parcels_job


@pytest.fixture(autouse=True)
def _fresh_engine():
    forget_engine()
    yield
    forget_engine()


def test_at_an_exchange_office_the_threshold_follows_its_dwell(app):
    with app.app_context():
        session = app.extensions["silkway.db"].session()
        threshold = stall_threshold(session)
        session.close()
    at_customs = threshold("ru_mmpo_vnukovo", "in_transit", "customs_processing")
    at_sorting = threshold("ru_asc_podolsk", "in_transit", "in_sorting")
    # Prior dwell at Vnukovo: 24/48/168 h; at Podolsk 6/12/48 h: customs may take days, sorting hours.
    assert timedelta(days=4) < at_customs < timedelta(days=12)
    assert timedelta(days=1) <= at_sorting < at_customs
    assert at_sorting >= STALL_SLACK


def test_after_a_departure_or_off_the_network_the_fixed_table_applies(app):
    with app.app_context():
        session = app.extensions["silkway.db"].session()
        threshold = stall_threshold(session)
        session.close()
    assert threshold("ru_mmpo_vnukovo", "in_transit", "departed") == default_threshold(
        None, "in_transit", "departed"
    )
    assert threshold(None, "in_transit", "other") == default_threshold(None, "in_transit", "other")
    assert threshold("xx_nowhere", "in_transit", "arrived") == default_threshold(
        None, "in_transit", "arrived"
    )


def test_the_scheduled_job_flags_a_parcel_silent_at_customs_beyond_its_threshold(app, client, make_key):
    carrier, merchant = make_key("carrier", "acme_post"), make_key("merchant", "Shenzhen Gadgets")
    number = "RX747628194CN"
    resp = client.post(
        "/api/v1/parcels",
        data=orjson.dumps(
            {
                "identifiers": [number],
                "origin": "Shenzhen",
                "destination": "Moscow",
                "service": "standard_air",
                "reference": "order-1",
            }
        ),
        content_type="application/json",
        headers=bearer(merchant),
    )
    assert resp.status_code in (200, 201), resp.get_json()
    now = datetime.now(UTC)
    event = {
        "tracking_number": number,
        "status": "in_transit",
        "substatus": "customs_processing",
        "occurred_at": (now - timedelta(days=3)).isoformat(),
        "location": {"name": "Внуково", "country": "RU"},
    }
    client.post(
        "/api/v1/carriers/acme_post/events",
        data=orjson.dumps({"events": [event]}),
        content_type="application/json",
        headers=bearer(carrier),
    )
    assert stalled_parcels_job(app, now) == [], "three days at customs is within its usual dwell"
    flagged = stalled_parcels_job(app, now + timedelta(days=9))
    assert len(flagged) == 1
    listed = client.get("/api/v1/parcels?delayed=true", headers=bearer(merchant)).get_json()
    assert [p for p in listed["parcels"] if number in str(p)]
