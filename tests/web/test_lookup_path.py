"""The lookup's view (API and /track): on PostgreSQL it runs on a pooled driver connection without a
session; it must show exactly what the session's view shows, leave the pool as it found it, and carry each
event's number to the ETA (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest

from tests.web.support import ago
from tracking.queries import lookup_public_parcel, public_parcel

FIRST, LAST = "LP00012345678901", "RX747628194CN"
MOSCOW = {"name": "Moscow", "country": "RU"}


@pytest.fixture
def parcel(scan):
    """One parcel with a first-mile and a last-mile number, scanned under each."""
    start = ago(days=5)
    scan(FIRST, substatus="picked_up", at=start)
    scan(FIRST, substatus="departed", at=start + timedelta(days=1), linked_numbers=[LAST])
    scan(LAST, substatus="arrived_destination_country", at=start + timedelta(days=3), location=MOSCOW)


def test_the_lookup_shows_what_the_session_view_shows(app, parcel):
    db = app.extensions["silkway.db"]
    with app.app_context():
        session = db.session()
        expected = public_parcel(session, LAST)
        session.close()
        assert expected is not None
        assert [e.number for e in reversed(expected.events)] == [FIRST, FIRST, LAST]
        if db.engine.dialect.name != "postgresql":
            return
        got = lookup_public_parcel(db.engine, LAST.lower())
        assert got == expected
        assert got.status_at is not None and got.status_at.tzinfo is UTC  # as the session's view gives it
        assert lookup_public_parcel(db.engine, "RX000000000CN") is None
        # The pooled connection went back as SQLAlchemy expects it: no autocommit, no open transaction.
        with db.engine.connect() as conn:
            driver = conn.connection.driver_connection
            assert driver.autocommit is False
            assert driver.info.transaction_status.name == "IDLE"


def test_the_api_and_the_page_answer_through_the_lookup(client, parcel):
    for number in (FIRST, LAST):
        resp = client.get(f"/api/v1/parcels/{number}")
        assert resp.status_code == 200
        body = resp.get_json()
        assert body["identifiers"] == [FIRST, LAST]
        assert len(body["events"]) == 3 and body["eta"] is not None
        assert client.get(f"/track/{number}").status_code == 200
    assert client.get("/api/v1/parcels/RX000000000CN").status_code == 404
