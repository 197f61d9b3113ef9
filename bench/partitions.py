"""Lookups on the events partitioned by month against the same history in one plain table, side by side.

Two databases seeded alike by bench/seed_large.py (the same parcels, numbers and scans), one migrated to
0012 (events partitioned by month, tracking/partitions.py), one left at 0011 (one table), on the same
server: the lookup's hot path (tracking.queries.lookup_public_parcel: one prepared statement on a pooled
driver connection, the query every API lookup and page runs) on the same random numbers, interleaved
round by round so that a noisy neighbour hurts both alike; median time per lookup of each round's
``--lookups``.

``--ingest N`` measures ingestion instead: two fresh databases on the test server, one at 0011 and one at
head (its months from September 2026 on created, as the scheduler would have; the one table is given the
same ``occurred_month`` column, which this code writes), and N synthetic parcels of
10 scans (bench/common.py) ingested into each through tracking.ingest in batches of 1,000 events, one
committed unit each, alternating batch by batch; events per second of each.

Usage: ``python bench/partitions.py --plain URL --partitioned URL [--lookups 2000] [--rounds 5]``
(e.g. the ``silkway_large_100000`` database of an earlier release and one seeded now), or
``python bench/partitions.py --ingest 20000``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alembic import command
from sqlalchemy import text

from bench.common import fresh_database, synthetic_events
from bench.lookups import sample_numbers
from carriers.canonical import event_from_dict
from tracking.accounts import ensure_carrier
from tracking.db import make_engine, make_session_factory
from tracking.ingest import CarrierRef, ingest
from tracking.partitions import ensure_months, is_partitioned, months
from tracking.queries import lookup_public_parcel
from tracking.schema import alembic_config


def main() -> None:
    """Time the lookups on both databases, round by round."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plain", help="events in one table (migration 0011)")
    parser.add_argument("--partitioned", help="events partitioned by month (0012)")
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--ingest", type=int, default=0, help="parcels to ingest into fresh databases")
    args = parser.parse_args()
    if args.ingest:
        ingestion(args.ingest)
        return
    if not (args.plain and args.partitioned):
        parser.error("--plain and --partitioned name the two databases (or use --ingest)")
    numbers = sample_numbers(args.partitioned, args.lookups)
    engines = {"plain": make_engine(args.plain), "partitioned": make_engine(args.partitioned)}
    with engines["partitioned"].connect() as conn:
        assert is_partitioned(conn), "--partitioned names a database whose events are one table"
        print(f"partitioned: {len(months(conn))} months and a default partition")
    with engines["plain"].connect() as conn:
        assert not is_partitioned(conn), "--plain names a database whose events are partitioned"
    for engine in engines.values():  # warm-up: connections, prepared statements, the server's cache
        for number in numbers:
            lookup_public_parcel(engine, number)
    times: dict[str, list[float]] = {name: [] for name in engines}
    for round_ in range(args.rounds):
        for name, engine in engines.items():
            found = 0
            started = time.perf_counter()
            for number in numbers:
                found += lookup_public_parcel(engine, number) is not None
            per = (time.perf_counter() - started) / len(numbers) * 1000
            times[name].append(per)
            print(f"  round {round_ + 1} {name:11} {per:6.3f} ms a lookup ({found:,}/{len(numbers):,} found)")
    plain, parted = (statistics.median(times[name]) for name in ("plain", "partitioned"))
    print(f"median: plain {plain:.3f} ms, partitioned {parted:.3f} ms a lookup ({parted / plain:.2f} ×)")
    for engine in engines.values():
        engine.dispose()


def ingestion(parcels: int, batch: int = 1000) -> None:
    """Ingest the same synthetic scans into a 0011 and a head database, batch by batch in turn."""
    journeys = synthetic_events(parcels, 10)
    flat = [event_from_dict(item, "bench_post") for journey in journeys for item in journey]
    batches = [flat[i : i + batch] for i in range(0, len(flat), batch)]
    with fresh_database("postgres") as plain_url, fresh_database("postgres") as parted_url:
        command.downgrade(alembic_config(plain_url), "0011")
        engines = {"plain": make_engine(plain_url), "partitioned": make_engine(parted_url)}
        with engines["plain"].begin() as conn:  # the same rows as the partitioned table, in one table
            conn.execute(text("ALTER TABLE events ADD COLUMN occurred_month date"))
        with engines["partitioned"].begin() as conn:
            ensure_months(conn, date(2026, 9, 1), date(2026, 12, 1))
        sessions = {name: make_session_factory(engine)() for name, engine in engines.items()}
        refs = {}
        for name, session in sessions.items():
            row = ensure_carrier(session, "bench_post", "canonical")
            session.commit()
            refs[name] = CarrierRef(row.id, row.code)
        spent = dict.fromkeys(engines, 0.0)
        for events in batches:
            for name, session in sessions.items():
                started = time.perf_counter()
                ingest(session, refs[name], events)
                session.commit()
                spent[name] += time.perf_counter() - started
        for name, session in sessions.items():
            session.close()
            engines[name].dispose()
            rate = len(flat) / spent[name]
            print(f"  {name:11} {rate:8,.0f} events/s ({len(flat):,} events in {spent[name]:.1f} s)")
    print(f"partitioned / plain: {spent['plain'] / spent['partitioned']:.2f} × the plain table's rate")


if __name__ == "__main__":
    main()
