"""ETA latency as the issue measures it: single in-process quotes, and a 1,000-quote batch over HTTP.

Prints, with the load average before and after:

1. the median and p99 of single quotes in-process (random lanes and ship dates, plans cached as in a
   warm worker), next to the same quotes computed as before batching (``Plan.run`` and
   ``np.percentile`` per quote), measured in the same run;
2. 1,000-quote batches in-process, ``EtaEngine.quote_many`` against that per-quote loop (CPU seconds,
   alternated, so both see the same machine): random lanes and ship hours (as over HTTP below), and a
   shop's batch over 20 lanes shipped now, where quotes repeat;
3. the wall time of ``POST /api/v1/eta/quotes`` with 1,000 quotes to a live gunicorn on SQLite, next to
   the same server's ``GET /healthz`` as a baseline for HTTP overhead. The first batch warms one of the
   two workers; the slowest batch usually is the other worker's first (it builds its plans then).

Run: ``.venv/bin/python bench/eta.py [--quotes 500] [--repeats 5]``. Targets: median < 5 ms; batch < 1 s.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import fresh_database, gunicorn
from bench.eta_engine import lanes
from routing.eta import EtaEngine
from routing.holidays_calendar import from_hours, to_hours
from routing.quotes import QuoteAsk
from tracking.accounts import create_key, ensure_merchant
from tracking.db import make_engine, make_session_factory


def random_asks(engine: EtaEngine, count: int, seed: int) -> list[QuoteAsk]:
    """``count`` quotes on random routable lanes, shipped at random hours over 240 days."""
    rng = random.Random(seed)
    options = lanes(engine)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    return [
        QuoteAsk(o, d, s, start + timedelta(hours=rng.randrange(24 * 240)))
        for s, o, d in (rng.choice(options) for _ in range(count))
    ]


def per_quote(engine: EtaEngine) -> Callable[[QuoteAsk], list[datetime]]:
    """The quote as computed before batching: ``Plan.run`` on one parcel, then ``np.percentile``."""

    def quote(ask: QuoteAsk) -> list[datetime]:
        route = engine.router.route_for(ask.service, ask.origin, ask.destination)
        plan = engine._plan(ask.service, route, at_origin=True)  # a benchmark may look inside
        arrival = plan.run(np.full(engine.samples, to_hours(ask.ship_at)))
        return [from_hours(p) for p in np.percentile(arrival, [10, 50, 90])]

    return quote


def single_quotes(count: int, seed: int) -> dict[str, tuple[float, float]]:
    """Median and p99 in ms of single in-process quotes, now and as before (after one warm-up pass)."""
    engine = EtaEngine()
    asks = random_asks(engine, count, seed)
    before = per_quote(engine)
    calls: dict[str, Callable[[QuoteAsk], object]] = {
        "quote": lambda a: engine.quote(a.origin, a.destination, a.service, a.ship_at),
        "before": before,
    }
    for ask in asks:
        calls["quote"](ask)
    times: dict[str, list[float]] = {name: [] for name in calls}
    for ask in asks:  # alternate, so both see the same machine
        for name, call in calls.items():
            t0 = time.perf_counter()
            call(ask)
            times[name].append((time.perf_counter() - t0) * 1000)
    result = {}
    for name, values in times.items():
        values.sort()
        result[name] = (statistics.median(values), values[int(len(values) * 0.99) - 1])
    return result


def merchant_asks(engine: EtaEngine, count: int, seed: int) -> list[QuoteAsk]:
    """A shop's batch: ``count`` quotes over 20 lanes, all shipped now (so many quotes repeat)."""
    rng = random.Random(seed)
    options = rng.sample(lanes(engine), 20)
    now = datetime.now(UTC)
    return [QuoteAsk(o, d, s, now) for s, o, d in (rng.choice(options) for _ in range(count))]


def batch_in_process(asks: list[QuoteAsk], engine: EtaEngine, repeats: int) -> tuple[list[float], ...]:
    """CPU seconds of a warm batch: quote_many, and the per-quote loop as before (alternated)."""
    before = per_quote(engine)
    engine.quote_many(asks)
    batched, looped = [], []
    for _ in range(repeats):
        t0 = time.process_time()
        engine.quote_many(asks)
        batched.append(time.process_time() - t0)
        t0 = time.process_time()
        for ask in asks:
            before(ask)
        looped.append(time.process_time() - t0)
    return batched, looped


def batch_over_http(repeats: int, seed: int) -> tuple[list[float], list[float]]:
    """Wall times (s) of 1,000-quote batches and of /healthz calls against the same live server."""
    quotes = [
        {"origin": a.origin, "destination": a.destination, "service": a.service,
         "ship_at": a.ship_at.isoformat()}
        for a in random_asks(EtaEngine(), 1000, seed)
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


def load() -> str:
    """The 1, 5 and 15 minute load averages."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quotes", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"load average before: {load()} ({os.cpu_count()} CPUs)")
    single = single_quotes(args.quotes, args.seed)
    (median, p99), (was_median, was_p99) = single["quote"], single["before"]
    print(
        f"single quote in-process: median {median:.2f} ms, p99 {p99:.2f} ms over {args.quotes} quotes "
        f"(target: median < 5 ms); per-quote Plan.run as before, same run: median {was_median:.2f} ms, "
        f"p99 {was_p99:.2f} ms"
    )
    engine = EtaEngine()
    for name, asks in (
        ("1,000-quote batch, random lanes and ship hours", random_asks(engine, 1000, args.seed)),
        ("1,000-quote shop batch, 20 lanes shipped now", merchant_asks(engine, 1000, args.seed)),
    ):
        batched, looped = batch_in_process(asks, engine, args.repeats)
        ratio = statistics.median(looped) / statistics.median(batched)
        print(
            f"{name}, in-process (CPU s): quote_many median {statistics.median(batched):.3f} "
            f"(min {min(batched):.3f}); per-quote loop as before median {statistics.median(looped):.3f} "
            f"(min {min(looped):.3f}); {ratio:.2f}x"
        )
    batches, health = batch_over_http(args.repeats, args.seed)
    print(
        f"1,000-quote batch over HTTP: median {statistics.median(batches):.3f} s "
        f"(min {min(batches):.3f}, max {max(batches):.3f}; target < 1 s); "
        f"/healthz on the same server: median {statistics.median(health) * 1000:.1f} ms"
    )
    print(f"load average after: {load()}")


if __name__ == "__main__":
    main()
