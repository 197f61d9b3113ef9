"""Lookups on the events partitioned by month against the same history in one plain table, side by side.

Two databases seeded alike by bench/seed_large.py (the same parcels, numbers and scans), one migrated to
0012 (events partitioned by month, tracking/partitions.py), one left at 0011 (one table), on the same
server: the lookup's hot path (tracking.queries.lookup_public_parcel: one prepared statement on a pooled
driver connection, the query every API lookup and page runs) on the same random numbers, interleaved
round by round so that a noisy neighbour hurts both alike; median time per lookup of each round's
``--lookups``, and the query plan's partitions.

Usage: ``python bench/partitions.py --plain URL --partitioned URL [--lookups 2000] [--rounds 5]``
(e.g. the ``silkway_large_100000`` database of an earlier release and one seeded now).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.lookups import sample_numbers
from tracking.db import make_engine
from tracking.partitions import is_partitioned, months
from tracking.queries import lookup_public_parcel


def main() -> None:
    """Time the lookups on both databases, round by round."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plain", required=True, help="events in one table (migration 0011)")
    parser.add_argument("--partitioned", required=True, help="events partitioned by month (0012)")
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
