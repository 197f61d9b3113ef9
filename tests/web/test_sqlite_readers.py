"""On SQLite, readers never queue behind writers: pages answer while a long write or read runs."""

from __future__ import annotations

import time

import orjson
import pytest
from sqlalchemy import select, text

from tests.conftest import bearer
from tracking import models
from tracking.db import make_engine, make_session_factory, read_only

EVENT = {
    "tracking_number": "RX747628194CN",
    "status": "in_transit",
    "substatus": "departed",
    "occurred_at": "2026-10-20T08:31:00+08:00",
    "location": {"name": "Shenzhen", "country": "CN"},
}


@pytest.fixture
def sqlite_url(db_url):
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite's locking only")
    return db_url


def _push(client, key):
    return client.post(
        "/api/v1/carriers/acme_post/events",
        data=orjson.dumps({"events": [EVENT]}),
        content_type="application/json",
        headers=bearer(key),
    )


def test_a_lookup_is_served_while_a_writer_holds_the_lock(app, client, make_key, sqlite_url):
    assert _push(client, make_key("carrier", "acme_post")).status_code == 200
    engine = make_engine(sqlite_url)
    with make_session_factory(engine)() as writer:
        writer.execute(text("UPDATE parcels SET reference = 'held'"))  # BEGIN IMMEDIATE: the write lock
        started = time.monotonic()
        assert client.get("/api/v1/parcels/RX747628194CN").status_code == 200
        assert client.get("/track/RX747628194CN").status_code == 200
        assert time.monotonic() - started < 5, "the reads waited for the writer"
        writer.rollback()
    engine.dispose()


def test_a_long_reader_does_not_block_ingestion(app, client, make_key, sqlite_url):
    key = make_key("carrier", "acme_post")
    engine = make_engine(sqlite_url)
    with make_session_factory(engine)() as reader:
        read_only(reader)
        reader.execute(select(models.Parcel.id)).all()  # an open read transaction, as eta refresh holds
        started = time.monotonic()
        assert _push(client, key).status_code == 200
        assert time.monotonic() - started < 5
        reader.rollback()
    engine.dispose()
