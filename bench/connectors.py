"""10,000 parcels registered by a merchant reach 17TRACK in calls of at most 40, within its rate limit.

The merchant registers 10,000 parcels through the API (10 requests of 1,000, the API's batch cap) with
17TRACK switched on and pointed at the local 17TRACK server (tests/support/fake_track17.py: 3 requests
a second per key, 429 beyond, 40 numbers a call); the baseline is the same registration with no
connector. Then the scheduler's job ``connectors`` is run tick after tick until every number is
registered. Printed: the merchant's request times with and without the connector, the calls, the
largest call, the 429s, the drain's time and rate.

    .venv/bin/python bench/connectors.py [--parcels 10000] [--db sqlite|postgres]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask import Flask
from sqlalchemy import func, select

from bench.common import fresh_database
from tests.support.fake_track17 import FakeTrack17Server, start_fake_track17, stop_fake_track17
from tracking import models
from tracking.accounts import create_key, ensure_merchant
from tracking.types import utcnow
from web import create_app
from web.connectors import drain

KEY = "bench-17token"
BATCH = 1000


def register_all(url: str, parcels: int, server: FakeTrack17Server | None, base: str | None) -> list[float]:
    """Register ``parcels`` parcels in requests of 1,000 (17TRACK on when ``server`` is given), then drain
    the connectors' outbox; the seconds each registration request took."""
    config: dict[str, object] = {"DATABASE_URL": url, "RATELIMIT_ENABLED": False, "LOG_LEVEL": "WARNING"}
    if server is not None:
        config |= {"TRACK17_API_KEY": KEY, "TRACK17_API_URL": base}
    app = create_app(config)
    with app.app_context():
        session = app.extensions["silkway.db"].session()
        key = create_key(session, "merchant", merchant=ensure_merchant(session, "Bench Shop"))
        session.commit()
        session.close()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {key}"}
    took = []
    for start in range(0, parcels, BATCH):
        body = {"parcels": [parcel(index) for index in range(start, min(parcels, start + BATCH))]}
        began = time.perf_counter()
        resp = client.post("/api/v1/parcels", json=body, headers=headers)
        took.append(time.perf_counter() - began)
        assert resp.status_code == 201, resp.get_json()
    if server is not None:
        assert server.state.seen == [], "a merchant's request called 17TRACK"
        show("registration, 17TRACK on (queued)    ", took)
        drain_all(app, server, parcels)
    else:
        show("registration, no connector (baseline)", took)
    app.extensions["silkway.db"].dispose()
    return took


def parcel(index: int) -> dict[str, object]:
    return {
        "identifiers": [f"LP{index:014d}"],
        "origin": "Shenzhen",
        "destination": "Moscow",
        "service": "standard_air",
        "reference": f"ORDER-{index}",
    }


def drain_all(app: Flask, server: FakeTrack17Server, parcels: int) -> None:
    """Run the connectors' job tick after tick until every number is registered; print what it took."""
    began, ticks = time.monotonic(), 0
    registrations = models.ConnectorRegistration
    with app.app_context():
        while True:
            drain.connectors_job(app, utcnow())
            ticks += 1
            session = app.extensions["silkway.db"].session()
            left = session.scalar(select(func.count()).where(registrations.state != "registered"))
            session.close()
            if not left:
                break
    seconds = time.monotonic() - began
    calls = server.state.calls("register")
    sizes = [len(c.body) for c in calls]
    every = server.state.seen
    rate = (len(every) - 1) / (every[-1].at - every[0].at) if len(every) > 1 else 0.0
    known = len(server.state.numbers)
    print(f"drain: {sum(sizes)} numbers registered ({known} known to 17TRACK) in {len(calls)}")
    print(f"       register calls (+{len(every) - len(calls)} getquota), largest {max(sizes)} numbers, ")
    print(
        f"       {server.state.too_fast} answered 429, {ticks} job ticks, {seconds:.1f} s: {rate:.2f} calls/s"
    )
    print(f"       (17TRACK's limit: 3), {sum(sizes) / seconds:.0f} numbers/s")
    assert sum(sizes) == parcels and max(sizes) <= 40 and server.state.too_fast == 0


def show(name: str, took: list[float]) -> None:
    median = statistics.median(took) * 1000
    print(
        f"{name}: {len(took)} requests of <= {BATCH} parcels, median {median:.0f} ms, "
        f"max {max(took) * 1000:.0f} ms, total {sum(took):.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=10_000)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    with fresh_database(args.db) as url:
        register_all(url, args.parcels, None, None)
    server, base = start_fake_track17(KEY, quota_total=args.parcels)
    try:
        with fresh_database(args.db) as url:
            register_all(url, args.parcels, server, base)
    finally:
        stop_fake_track17(server)


if __name__ == "__main__":
    main()
