"""Ingestion throughput: batched canonical events through the HTTP API vs a raw Core insert.

For each database (SQLite, PostgreSQL) it measures, in the same run:
- **http**: batches of canonical JSON POSTed to a live gunicorn (2 workers) by 2 client threads, with
  authentication, parsing, deduplication, identifier linking, location upsert and status derivation;
- **raw**: SQLAlchemy Core ``insert`` of the same parcel, identifier and event rows, same batch size, one
  transaction per batch — the floor no ingestion path can beat.

``--repeat N`` runs both N times (alternating) and prints each run and the medians; the ratio is
taken per run, so a load swing between runs does not skew it. The load average is printed with each run.

Shapes: ``journeys`` (default) sends each parcel's whole journey in one batch (new parcels, about
``batch / per-parcel`` numbers per batch); ``rounds`` sends the first scan of 1,000 parcels, then their
second scan, and so on, as a carrier feed does (1,000 numbers per batch, parcels that exist already
after the first round, so identifier look-ups hit and every batch moves existing statuses).

Usage: ``python bench/ingest.py [--parcels 3000] [--per-parcel 10] [--batch 1000] [--only sqlite]
[--repeat 3] [--shape journeys|rounds] [--workers 2] [--threads 2]``.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import cast
from urllib.parse import urlparse

import orjson
from sqlalchemy import TableClause, column, func, insert, select, table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import fresh_database, gunicorn, run_threads, synthetic_events
from tracking import models
from tracking.accounts import create_key, ensure_carrier
from tracking.db import make_engine, make_session_factory
from tracking.events import Location
from tracking.partitions import is_partitioned, month_of
from tracking.types import utcnow

EVENTS_BY_MONTH = table(
    "events", *(column(c.name) for c in models.ScanEvent.__table__.columns), column("occurred_month")
)


def batches(journeys: list[list[dict[str, object]]], size: int) -> list[list[dict[str, object]]]:
    """Cut the journeys into batches of about ``size`` events (whole parcels per batch)."""
    out: list[list[dict[str, object]]] = [[]]
    for journey in journeys:
        if len(out[-1]) + len(journey) > size and out[-1]:
            out.append([])
        out[-1].extend(journey)
    return out


def rounds(journeys: list[list[dict[str, object]]], size: int) -> list[list[dict[str, object]]]:
    """Batches of ``size`` parcels' k-th scans: every parcel's first scan, then every second one, ..."""
    out: list[list[dict[str, object]]] = []
    for start in range(0, len(journeys), size):
        group = journeys[start : start + size]
        for step in range(max(len(j) for j in group)):
            out.append([j[step] for j in group if step < len(j)])
    return out


def http_run(url: str, payloads: list[bytes], threads: int = 2, workers: int = 2) -> float:
    """POST every payload over keep-alive connections; returns elapsed seconds."""
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        key = create_key(session, "carrier", carrier=ensure_carrier(session, "bench_post", "canonical"))
        session.commit()
    engine.dispose()
    with gunicorn(url, workers=workers) as base:
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
                    _, body = queue.pop(0)
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

        elapsed = run_threads(worker, threads)
    if errors:
        raise SystemExit(f"{len(errors)} batches failed, first: {errors[0]}")
    return elapsed


def raw_run(url: str, groups: list[list[dict[str, object]]]) -> float:
    """Insert the same rows with SQLAlchemy Core, one transaction per batch; returns elapsed seconds."""
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        carrier_id = ensure_carrier(session, "raw_post", "canonical").id
        session.commit()
    with engine.connect() as conn:
        partitioned = is_partitioned(conn)
    # PostgreSQL's events carry their partition key, which the model leaves to tracking.ingest_sql
    events = EVENTS_BY_MONTH if partitioned else cast(TableClause, models.ScanEvent.__table__)
    started = time.perf_counter()
    parcel_of: dict[str, int] = {}  # numbers seen in earlier batches keep their parcel (shape "rounds")
    serial = 0
    with engine.connect() as conn:
        for group in groups:
            numbers = sorted({str(e["tracking_number"]) for e in group} - parcel_of.keys())
            now = utcnow()
            if numbers:
                ids = conn.execute(
                    insert(models.Parcel).returning(models.Parcel.id, sort_by_parameter_order=True),
                    [
                        {"status": "pending", "substatus": "registered", "created_at": now, "updated_at": now}
                        for _ in numbers
                    ],
                ).scalars()
                parcel_of.update(zip(numbers, ids, strict=True))
                conn.execute(
                    insert(models.Identifier),
                    [{"number": n, "parcel_id": parcel_of[n], "created_at": now} for n in numbers],
                )
            rows = []
            for e in group:
                serial += 1
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
                        "fingerprint": f"{serial:020d}",
                        "received_at": now,
                        **({"occurred_month": month_of(at)} if partitioned else {}),
                    }
                )
            conn.execute(insert(events), rows)
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
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--shape", choices=["journeys", "rounds"], default="journeys")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    Location()  # import check
    journeys = synthetic_events(args.parcels, args.per_parcel)
    groups = batches(journeys, args.batch) if args.shape == "journeys" else rounds(journeys, args.batch)
    payloads = [orjson.dumps({"events": g}) for g in groups]
    total = sum(len(g) for g in groups)
    print(
        f"{total} events in {len(groups)} batches of ≤{args.batch} ({args.parcels} parcels, {args.shape}); "
        f"{args.workers} gunicorn workers, {args.threads} client threads"
    )
    for kind in ["sqlite", "postgres"]:
        if args.only and kind != args.only:
            continue
        runs: list[tuple[float, float]] = []
        for _ in range(args.repeat):
            load = os.getloadavg()[0]
            with fresh_database(kind) as url:
                raw = total / raw_run(url, groups)
            with fresh_database(kind) as url:
                api = total / http_run(url, payloads, args.threads, args.workers)
                assert stored_events(url) == total, "events were lost"
            runs.append((api, raw))
            print(
                f"{kind:9} http {api:9,.0f} events/s   raw insert {raw:9,.0f} events/s   "
                f"ratio {api / raw:.2f}   (load {load:.1f})"
            )
        if args.repeat > 1:
            api = statistics.median(a for a, _ in runs)
            raw = statistics.median(r for _, r in runs)
            ratio = statistics.median(a / r for a, r in runs)
            print(
                f"{kind:9} median of {args.repeat}: http {api:,.0f} events/s   "
                f"raw insert {raw:,.0f} events/s   ratio {ratio:.2f}"
            )


if __name__ == "__main__":
    main()
