"""What fewer Monte Carlo samples would cost in accuracy and save in time, for in-flight lookups.

For random seeded parcels in flight, works out each ETA with the engine's default sample count, with
fewer, and with a large reference count (``--reference``), all at the same ``as_of`` and model; prints the
time per estimate and how far each count's p10/p50/p90 fall from the reference (the Monte Carlo error).
Nothing here changes what Silkway answers: the sample count is routing's (``EtaEngine(samples=...)``).

Usage: ``python bench/eta_samples.py [--full | --parcels N] [--sample 300] [--counts 2000,1000,500,250]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.lookups import sample_numbers
from bench.seed_large import FULL_PARCELS, ensure_seeded, large_url


def main() -> None:
    """Time and compare in-flight ETAs at several sample counts against a large reference count."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=100_000)
    parser.add_argument("--full", action="store_true", help="the 1,000,000-parcel database")
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--counts", default="2000,1000,500,250")
    parser.add_argument("--reference", type=int, default=20_000)
    args = parser.parse_args()
    parcels = FULL_PARCELS if args.full else args.parcels
    url = large_url(parcels)
    ensure_seeded(url, parcels)
    from routing.eta import EtaEngine
    from tracking.queries import public_parcel
    from web import create_app
    from web.eta.engine import current_engine
    from web.eta.lookup import view_track

    app = create_app({"DATABASE_URL": url, "RATELIMIT_ENABLED": False, "LOG_LEVEL": "WARNING"})
    counts = [int(c) for c in args.counts.split(",")]
    now = datetime.now(UTC)
    with app.test_request_context("/"):
        session = app.extensions["silkway.db"].session()
        base = current_engine(session)
        engines = {n: EtaEngine(base.network, base.model, samples=n) for n in [*counts, args.reference]}
        tracks = []
        for number in sample_numbers(url, args.sample, seed=13):
            view = public_parcel(session, number)
            if view is not None and view.status not in ("delivered", "expired"):
                tracks.append(view_track(view, now))
        session.close()
    for engine in engines.values():  # build every plan once: the timings below are steady-state
        for track in tracks:
            engine.in_flight(track, now)
    reference = [engines[args.reference].in_flight(t, now) for t in tracks]
    print(f"{len(tracks)} parcels in flight; error = largest |p - reference| of p10/p50/p90, in hours")
    for n in counts:
        started = time.perf_counter()
        results = [engines[n].in_flight(t, now) for t in tracks]
        ms = (time.perf_counter() - started) / len(tracks) * 1000
        errors = sorted(
            max(abs((getattr(r, q) - getattr(ref, q)).total_seconds()) for q in ("p10", "p50", "p90")) / 3600
            for r, ref in zip(results, reference, strict=True)
        )
        print(
            f"  {n:6d} samples: {ms:5.2f} ms per estimate; error median {statistics.median(errors):5.2f} h, "
            f"p90 {errors[int(0.9 * (len(errors) - 1))]:5.2f} h, max {errors[-1]:5.2f} h"
        )


if __name__ == "__main__":
    main()
