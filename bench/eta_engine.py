"""Benchmark of the ETA engine, and the measurement behind Monte Carlo over quantile arithmetic.

Run: .venv/bin/python bench/eta_engine.py [--quotes 400] [--seed 1]

1. Latency of single in-process quotes over random origin/destination/service/ship_at combinations:
   every call (first calls build the route and its sampling plan) and repeat calls (plans cached).
2. Latency of in-flight estimates for synthetic parcels part-way along their routes.
3. For a few routes: adding up per-step medians and 90th centiles (quantile arithmetic) against the
   Monte Carlo median and 90th centile of the same steps, with and without timetables and holidays.
4. A backtest on a synthetic world where the prior is wrong (customs twice as slow at Sheremetyevo...):
   the learned model against the network prior and a per-service median.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from routing.backtest import HeldOut, run_backtest
from routing.errors import NoRoute
from routing.eta import EtaEngine
from routing.holidays_calendar import to_hours
from tests.support.synthetic import World, simulate_many


def lanes(engine: EtaEngine) -> list[tuple[str, str, str]]:
    places = engine.network.places.values()
    origins = [p.id for p in places if p.role == "origin_hub"]
    cities = [p.id for p in places if p.role == "last_mile_city"]
    found = []
    for service in engine.router.catalog.services:
        for origin in origins:
            for city in cities:
                try:
                    engine.router.route_for(service, origin, city)
                except NoRoute:
                    continue
                found.append((service, origin, city))
    return found


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def show(name: str, values: list[float]) -> None:
    median, p99 = statistics.median(values), percentile(values, 99)
    print(f"  {name:<34} median {median:6.2f} ms   p99 {p99:6.2f} ms")


def bench_quotes(count: int, seed: int) -> None:
    engine = EtaEngine()
    pool = lanes(engine)
    rng = random.Random(seed)
    cases = [
        (*rng.choice(pool), datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=rng.uniform(0, 24 * 365)))
        for _ in range(count)
    ]
    first, repeat = [], []
    for timings in (first, repeat):
        for service, origin, city, ship_at in cases:
            start = time.perf_counter()
            engine.quote(origin, city, service, ship_at)
            timings.append((time.perf_counter() - start) * 1000)
    print(f"lanes with a route: {len(pool)}; quotes: {count} ({engine.samples} samples each)")
    for name, values in (("all calls (cold plans included)", first), ("repeat calls (plans cached)", repeat)):
        show(name, values)


def bench_in_flight(count: int, seed: int) -> None:
    engine = EtaEngine()
    parcels = simulate_many(engine.router, count, datetime(2026, 3, 1, tzinfo=UTC), 30, seed=seed)
    rng = random.Random(seed)
    timings = []
    for _ in range(2):
        timings.clear()
        for parcel in parcels:
            scans = parcel.track.scans
            as_of = scans[rng.randrange(len(scans) - 1)].at + timedelta(hours=1)
            start = time.perf_counter()
            engine.in_flight(parcel.track, as_of)
            timings.append((time.perf_counter() - start) * 1000)
    print(f"in-flight estimates: {count} parcels (registered), second pass")
    show("repeat calls", timings)


def compare_arithmetic() -> None:
    engine = EtaEngine(samples=20000)
    ship = datetime(2026, 5, 4, 8, tzinfo=UTC)
    print("quantile arithmetic vs Monte Carlo (days from hand-over; same per-step distributions)")
    print(f"  {'route':<46} {'Σ medians':>9} {'MC p50':>7} {'MC p50+wait':>11} {'Σ p90s':>7} {'MC p90':>7}")
    for service, origin, city in [
        ("premium_air", "cn_shenzhen", "ru_moscow"),
        ("standard_air", "cn_guangzhou", "ru_novosibirsk"),
        ("economy_rail", "cn_yiwu", "ru_moscow"),
        ("sea_rail_far_east", "cn_shenzhen", "ru_vladivostok"),
    ]:
        route = engine.router.route_for(service, origin, city)
        plan = engine._plan(service, route, at_origin=True)  # a benchmark may look inside
        total = np.sum([step.samples for step in plan.steps], axis=0) / 24
        sum_p50 = sum(step.dist.median for step in plan.steps) / 24
        sum_p90 = sum(step.dist.quantile(0.9) for step in plan.steps) / 24
        full = (plan.run(np.full(engine.samples, to_hours(ship))) - to_hours(ship)) / 24
        label = f"{service} {origin}→{city}"
        print(
            f"  {label:<46} {sum_p50:9.1f} {np.median(total):7.1f} {np.median(full):11.1f} "
            f"{sum_p90:7.1f} {np.percentile(total, 90):7.1f}"
        )


def backtest_demo() -> None:
    engine = EtaEngine()
    world = World({"ru_mmpo_sheremetyevo": 2.0, "ru_mmpo_vnukovo": 1.6, "ru_asc_podolsk": 1.5,
                   "ru_lc_novosibirsk": 0.6, "cn_shenzhen": 1.5})
    parcels = simulate_many(engine.router, 1400, datetime(2026, 3, 1, tzinfo=UTC), 70, world=world)
    held = [HeldOut(p.track, p.delivered_at) for p in parcels]
    print("backtest on a synthetic world (split after day 56; priors off by the factors in bench source)")
    print(run_backtest(held, datetime(2026, 4, 26, tzinfo=UTC), engine.network).format())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quotes", type=int, default=400)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    bench_quotes(args.quotes, args.seed)
    bench_in_flight(200, args.seed)
    compare_arithmetic()
    backtest_demo()


if __name__ == "__main__":
    main()
