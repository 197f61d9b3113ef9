"""Ingestion throughput: batched canonical events through the HTTP API vs a raw Core insert.

For each database (SQLite, PostgreSQL) it measures, in the same run:
- **http**: batches of canonical JSON POSTed to a live gunicorn (2 workers) by 2 client threads, with
  authentication, parsing, deduplication, identifier linking, location upsert and status derivation;
- **raw**: SQLAlchemy Core ``insert`` of the same parcel, identifier and event rows, same batch size, one
  transaction per batch — the floor no ingestion path can beat.

Usage: ``python bench/ingest.py [--parcels 3000] [--per-parcel 10] [--batch 1000] [--only sqlite]``.
"""

from __future__ import annotations

import argparse
import http.client
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import urlparse

import orjson
from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import fresh_database, gunicorn, synthetic_events
from tracking import models
from tracking.accounts import create_key, ensure_carrier
from tracking.db import make_engine, make_session_factory
from tracking.events import Location
from tracking.types import utcnow


def batches(journeys: list[list[dict[str, object]]], size: int) -> list[list[dict[str, object]]]:
    """Cut the journeys into batches of about ``size`` events (whole parcels per batch)."""
    out: list[list[dict[str, object]]] = [[]]
    for journey in journeys:
        if len(out[-1]) + len(journey) > size and out[-1]:
            out.append([])
        out[-1].extend(journey)
    return out


def http_run(url: str, payloads: list[bytes], threads: int = 2) -> float:
    """POST every payload over keep-alive connections; returns elapsed seconds."""
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        key = create_key(session, "carrier", carrier=ensure_carrier(session, "bench_post", "canonical"))
        session.commit()
    engine.dispose()
    with gunicorn(url) as base:
        target = urlparse(base)
        queue = list(enumerate(payloads))
        lock = threading.Lock()
        errors: list[str] = []

        def worker() -> None:
            conn = http.client.HTTPConnection(target.hostname, target.port, timeout=120)
            while True:
                with lock:
                    if not queue:
                        break
                    _, body = queue.pop()
                conn.request(
                    "POST",
                    "/api/v1/carriers/bench_post/events",
                    body=body,
                    headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
                )
                resp = conn.getresponse()
                data = resp.read()
                if resp.status != 200:
                    errors.append(f"{resp.status}: {data[:200]!r}")
            conn.close()

        started = time.perf_counter()
        pool = [threading.Thread(target=worker) for _ in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit(f"{len(errors)} batches failed, first: {errors[0]}")
    return elapsed


def raw_run(url: str, groups: list[list[dict[str, object]]]) -> float:
    """Insert the same rows with SQLAlchemy Core, one transaction per batch; returns elapsed seconds."""
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        carrier_id = ensure_carrier(session, "raw_post", "canonical").id
        session.commit()
    started = time.perf_counter()
    with engine.connect() as conn:
        for group in groups:
            numbers = sorted({str(e["tracking_number"]) for e in group})
            now = utcnow()
            ids = (
                conn.execute(
                    insert(models.Parcel).returning(models.Parcel.id, sort_by_parameter_order=True),
                    [
                        {"status": "pending", "substatus": "registered", "created_at": now, "updated_at": now}
                        for _ in numbers
                    ],
                )
                .scalars()
                .all()
            )
            parcel_of = dict(zip(numbers, ids, strict=True))
            conn.execute(
                insert(models.Identifier),
                [{"number": n, "parcel_id": parcel_of[n], "created_at": now} for n in numbers],
            )
            rows = []
            for i, e in enumerate(group):
                at = datetime.fromisoformat(str(e["occurred_at"]))
                rows.append(
                    {
                        "parcel_id": parcel_of[str(e["tracking_number"])],
                        "carrier_id": carrier_id,
                        "tracking_number": e["tracking_number"],
                        "status": e["status"],
                        "substatus": e["substatus"],
                        "occurred_at": at,
                        "utc_offset_minutes": 0,
                        "description": e["description"],
                        "raw_code": e["raw_code"],
                        "fingerprint": f"{i:020d}",
                        "received_at": now,
                    }
                )
            conn.execute(insert(models.ScanEvent), rows)
            conn.commit()
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def stored_events(url: str) -> int:
    """How many events the database holds."""
    engine = make_engine(url)
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(models.ScanEvent)).scalar_one()
    engine.dispose()
    return int(count)


def main() -> None:
    """Run both measurements on each database and print events/s and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=3000)
    parser.add_argument("--per-parcel", type=int, default=10)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    args = parser.parse_args()
    Location()  # import check
    journeys = synthetic_events(args.parcels, args.per_parcel)
    groups = batches(journeys, args.batch)
    payloads = [orjson.dumps({"events": g}) for g in groups]
    total = sum(len(g) for g in groups)
    print(f"{total} events in {len(groups)} batches of ≤{args.batch} ({args.parcels} parcels)")
    for kind in ["sqlite", "postgres"]:
        if args.only and kind != args.only:
            continue
        with fresh_database(kind) as url:
            raw = raw_run(url, groups)
        with fresh_database(kind) as url:
            api = http_run(url, payloads)
            assert stored_events(url) == total, "events were lost"
        print(
            f"{kind:9} http {total / api:9,.0f} events/s   raw insert {total / raw:9,.0f} events/s   "
            f"ratio {raw / api:.2f}"
        )


if __name__ == "__main__":
    main()
