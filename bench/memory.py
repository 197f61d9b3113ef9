"""Memory of each gunicorn worker on the large database: after warm-up and after many lookups.

Starts gunicorn (``--workers``, preload_app as in gunicorn.conf.py) on the database bench/seed_large.py
builds, warms every worker up, then sends ``--lookups`` random look-ups (the parcel API and the shopper
page, half each) and reads each process's memory from /proc: VmRSS (resident, counting pages shared with
the master after fork) and Pss (each shared page divided among the processes sharing it). The master is
the baseline. Target: < 200 MB RSS per worker.

Usage: ``python bench/memory.py [--full | --parcels 100000] [--workers 4] [--lookups 4000]``.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import gunicorn, run_threads
from bench.lookups import sample_numbers
from bench.seed_large import FULL_PARCELS, ensure_seeded, large_url


def children(pid: int) -> list[int]:
    """The child processes of ``pid``."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


def memory_mb(pid: int) -> tuple[float, float]:
    """(RSS, PSS) of a process in MB."""
    rss = pss = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            pss = int(line.split()[1]) / 1024
    return rss, pss


def gunicorn_master() -> int:
    """The gunicorn master this process started."""
    for pid in children(os.getpid()):
        try:
            if b"gunicorn" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return pid
        except OSError:
            continue
    raise RuntimeError("no gunicorn child found")


def load(base: str, paths: list[str], threads: int = 8) -> tuple[float, int]:
    """GET every path over ``threads`` keep-alive connections; (seconds, non-200 answers)."""
    host = urlparse(base)
    queue = list(paths)
    lock = threading.Lock()
    bad = [0]

    def worker() -> None:
        conn = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
        while True:
            with lock:
                if not queue:
                    break
                path = queue.pop()
            try:
                conn.request("GET", path)
                resp = conn.getresponse()
                resp.read()
                if resp.status != 200:
                    with lock:
                        bad[0] += 1
                if resp.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException):
                conn.close()
                with lock:
                    bad[0] += 1
        conn.close()

    return run_threads(worker, threads), bad[0]


def report(label: str, master: int, workers: list[int]) -> list[float]:
    """Print the master's and each worker's memory; returns the workers' RSS."""
    m_rss, m_pss = memory_mb(master)
    print(f"{label}: master RSS {m_rss:6.1f} MB  PSS {m_pss:6.1f} MB")
    rss_all = []
    for pid in workers:
        rss, pss = memory_mb(pid)
        rss_all.append(rss)
        print(f"    worker {pid:>7}  RSS {rss:6.1f} MB  PSS {pss:6.1f} MB  ({rss / m_rss:4.2f}× the master)")
    return rss_all


def main() -> None:
    """Serve the large database, warm up, look up, and print memory per process."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=100_000)
    parser.add_argument("--full", action="store_true", help="1,000,000 parcels and 10,000,000 events")
    parser.add_argument("--url", default=None)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2)
    parser.add_argument("--lookups", type=int, default=4000)
    args = parser.parse_args()
    parcels = FULL_PARCELS if args.full else args.parcels
    url = args.url or large_url(parcels)
    ensure_seeded(url, parcels)
    numbers = sample_numbers(url, max(args.lookups, 1000))
    rng = random.Random(3)
    # max_requests would recycle workers mid-run and hide growth: turn it off for the measurement.
    extra = {"GUNICORN_CMD_ARGS": "--max-requests 0"}
    with gunicorn(url, workers=args.workers, extra_env=extra) as base:
        master = gunicorn_master()
        deadline = time.monotonic() + 60
        while len(children(master)) < args.workers and time.monotonic() < deadline:
            time.sleep(0.1)
        workers = sorted(children(master))
        report("started", master, workers)
        warm = [p + n for n in numbers[:100] for p in ("/api/v1/parcels/", "/track/")]
        load(base, warm + ["/healthz"] * 100)
        report("after warm-up (300 requests)", master, workers)
        paths = [
            rng.choice(("/api/v1/parcels/", "/track/")) + rng.choice(numbers) for _ in range(args.lookups)
        ]
        seconds, bad = load(base, paths)
        assert sorted(children(master)) == workers, "a worker was replaced during the run"
        rss = report(f"after {args.lookups:,} lookups ({seconds:.0f} s, {bad} non-200)", master, workers)
    print(f"\nper worker: max RSS {max(rss):.1f} MB, mean {sum(rss) / len(rss):.1f} MB (target < 200 MB)")


if __name__ == "__main__":
    main()
