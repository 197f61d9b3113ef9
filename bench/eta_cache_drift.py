"""How far a kept lookup ETA drifts from a fresh one as it ages (what ETA_CACHE_SECONDS trades away).

A lookup's ETA is worked out at its ``as_of``: in flight, the engine conditions the current leg or dwell
on "not over yet at as_of", so the same scans give slightly later quantiles a few minutes on. For random
seeded parcels this prints, per age, how much p10/p50/p90 moved between ``as_of`` and ``as_of + age``.

Usage: ``python bench/eta_cache_drift.py [--full | --parcels N] [--sample 500] [--ages 60,300,900,3600]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.lookups import sample_numbers
from bench.seed_large import FULL_PARCELS, ensure_seeded, large_url


def main() -> None:
    """Work out each sampled parcel's ETA now and ``age`` later; print the quantiles' moves."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=100_000)
    parser.add_argument("--full", action="store_true", help="the 1,000,000-parcel database")
    parser.add_argument("--sample", type=int, default=500)
    parser.add_argument("--ages", default="60,300,900,3600", help="seconds, comma-separated")
    args = parser.parse_args()
    parcels = FULL_PARCELS if args.full else args.parcels
    url = large_url(parcels)
    ensure_seeded(url, parcels)
    from tracking.queries import public_parcel
    from web import create_app
    from web.eta.lookup import parcel_eta

    app = create_app({"DATABASE_URL": url, "RATELIMIT_ENABLED": False, "LOG_LEVEL": "WARNING"})
    ages = [int(a) for a in args.ages.split(",")]
    moves: dict[int, list[float]] = {age: [] for age in ages}
    now = datetime.now(UTC)
    answered = 0
    with app.test_request_context("/"):
        session = app.extensions["silkway.db"].session()
        for number in sample_numbers(url, args.sample, seed=11):
            view = public_parcel(session, number)
            if view is None or view.status in ("delivered", "expired"):
                continue
            base = parcel_eta(session, view, now)
            if base is None:
                continue
            answered += 1
            for age in ages:
                later = parcel_eta(session, view, now + timedelta(seconds=age))
                assert later is not None
                moves[age].append(
                    max(
                        abs((getattr(later.estimate, q) - getattr(base.estimate, q)).total_seconds())
                        for q in ("p10", "p50", "p90")
                    )
                    / 60
                )
        session.close()
    print(f"{answered} parcels in flight; largest move of p10/p50/p90 (minutes) after each age:")
    for age in ages:
        m = sorted(moves[age])
        print(
            f"  age {age:5d} s: median {statistics.median(m):7.1f}  p90 {m[int(0.9 * (len(m) - 1))]:7.1f}  "
            f"max {m[-1]:7.1f}  (share unmoved: {sum(1 for x in m if x == 0) / len(m):.0%})"
        )


if __name__ == "__main__":
    main()
