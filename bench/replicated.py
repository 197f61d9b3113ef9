"""A seeded primary with one streaming replica for ``bench/lookups.py --replica``, and the primary's CPU.

The two servers are clusters of the benchmark's own (tests/reliability/replica_support.py: initdb,
pg_basebackup -R, pg_ctl on free loopback ports, stopped and removed at the end), seeded by
bench/seed_large.py on the primary before the replica is taken, so both hold the same data.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.seed_large import seed
from tests.reliability.replica_support import Clusters, Replicated, server_bin_dir
from tracking import schema
from tracking.db import make_engine

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# PostgreSQL's defaults for what reads touch (docs/performance.md's machine), not the tests' small ones
SETTINGS = {"shared_buffers": "'128MB'", "max_connections": "100"}


@dataclass(frozen=True, slots=True)
class Pair:
    """The primary's and the replica's URLs, and where the primary keeps its postmaster.pid."""

    primary_url: str
    replica_url: str
    primary_data: Path

    def primary_cpu(self) -> dict[int, int]:
        """CPU ticks (user + system) so far of the primary's postmaster and each of its processes, by pid."""
        return cpu_ticks(int((self.primary_data / "postmaster.pid").read_text().split()[0]))

    def primary_cpu_since(self, before: dict[int, int]) -> float:
        """CPU seconds the primary's processes used since ``before`` (one that exited meanwhile: not counted
        after ``before``; one started meanwhile: all of it)."""
        after = self.primary_cpu()
        return sum(ticks - before.get(pid, 0) for pid, ticks in after.items()) / CLOCK_TICKS


def cpu_ticks(postmaster: int) -> dict[int, int]:
    """User + system CPU ticks of ``postmaster`` and its child processes (backends, walsender, …)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            pid, ppid = int(stat.parent.name), int(fields[1])
            if postmaster in (pid, ppid):
                found[pid] = int(fields[11]) + int(fields[12])  # utime, stime
    return found


@contextlib.contextmanager
def replicated_pair(parcels: int) -> Iterator[Pair]:
    """A primary seeded with ``parcels`` parcels and a streaming replica that has replayed them."""
    bin_dir = server_bin_dir()
    if bin_dir is None:
        raise SystemExit("--replica needs the PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup)")
    clusters = Clusters(bin_dir, SETTINGS)
    try:
        primary = clusters.primary()
        engine = make_engine(primary.url)
        schema.upgrade(engine)
        engine.dispose()
        started = time.perf_counter()
        print(f"seeding {parcels:,} parcels into a primary of the benchmark's own …", flush=True)
        seed(primary.url, parcels, log=False)
        replica = clusters.replica_of(primary)
        Replicated(clusters, primary, replica).wait_replayed(timeout=600)
        print(f"  primary and streaming replica ready in {time.perf_counter() - started:.0f} s", flush=True)
        yield Pair(primary.url, replica.url, primary.data)
    finally:
        clusters.close()
