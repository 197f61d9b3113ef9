"""ETA latency as the issue measures it: single in-process quotes, and a 1,000-quote batch over HTTP.

Prints the median and p99 of single quotes in-process (random lanes and ship dates, plans cached as in
a warm worker), and the wall time of ``POST /api/v1/eta/quotes`` with 1,000 quotes to a live gunicorn
on SQLite, next to the same server's ``GET /healthz`` as a baseline for HTTP overhead.

Run: ``.venv/bin/python bench/eta.py [--quotes 500] [--repeats 5]``. Targets: median < 5 ms; batch < 1 s.
"""

from __future__ import annotations

import argparse
import http.client
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import fresh_database, gunicorn
from bench.eta_engine import lanes
from routing.eta import EtaEngine
from tracking.accounts import create_key, ensure_merchant
from tracking.db import make_engine, make_session_factory


def single_quotes(count: int, seed: int) -> tuple[float, float]:
    """Median and p99 in ms of single in-process quotes over random lanes (after one warm-up pass)."""
    engine = EtaEngine()
    rng = random.Random(seed)
    options = lanes(engine)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    asks = [(*rng.choice(options), start + timedelta(hours=rng.randrange(24 * 240))) for _ in range(count)]
    for service, origin, destination, ship_at in asks:
        engine.quote(origin, destination, service, ship_at)
    times = []
    for service, origin, destination, ship_at in asks:
        t0 = time.perf_counter()
        engine.quote(origin, destination, service, ship_at)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1]


def batch_over_http(repeats: int, seed: int) -> tuple[list[float], list[float]]:
    """Wall times (s) of 1,000-quote batches and of /healthz calls against the same live server."""
    engine = EtaEngine()
    rng = random.Random(seed)
    options = lanes(engine)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    quotes = [
        {
            "service": s,
            "origin": o,
            "destination": d,
            "ship_at": (start + timedelta(hours=rng.randrange(24 * 240))).isoformat(),
        }
        for s, o, d in (rng.choice(options) for _ in range(1000))
    ]
    body = orjson.dumps({"quotes": quotes})
    with fresh_database("sqlite") as url:
        db = make_engine(url)
        with make_session_factory(db)() as session:
            key = create_key(session, "merchant", merchant=ensure_merchant(session, "Bench Shop"))
            session.commit()
        db.dispose()
        with gunicorn(url, workers=2) as base:
            target = urlparse(base)
            conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
            headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
            conn.request("POST", "/api/v1/eta/quotes", body=body, headers=headers)  # warm the worker
            conn.getresponse().read()
            batches, health = [], []
            for _ in range(repeats):
                t0 = time.perf_counter()
                conn.request("POST", "/api/v1/eta/quotes", body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                batches.append(time.perf_counter() - t0)
                if resp.status != 200 or len(orjson.loads(data)["quotes"]) != 1000:
                    raise SystemExit(f"batch failed: {resp.status} {data[:300]!r}")
                t0 = time.perf_counter()
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                health.append(time.perf_counter() - t0)
            conn.close()
    return batches, health


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quotes", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    median, p99 = single_quotes(args.quotes, args.seed)
    print(
        f"single quote in-process: median {median:.2f} ms, p99 {p99:.2f} ms over {args.quotes} quotes "
        f"(target: median < 5 ms)"
    )
    batches, health = batch_over_http(args.repeats, args.seed)
    print(
        f"1,000-quote batch over HTTP: median {statistics.median(batches):.3f} s "
        f"(min {min(batches):.3f}, max {max(batches):.3f}; target < 1 s); "
        f"/healthz on the same server: median {statistics.median(health) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
