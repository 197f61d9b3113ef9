"""In-flight ETA cost: the milestone model against the Monte Carlo route model, on a demo history.

Loads every parcel of a demo-world database (``SILKWAY_DATABASE_URL``), learns the model as of the
newest scan, and times ``EtaEngine.in_flight`` for up to ``--parcels`` parcels still under way, with the
learned model (hours to arrival by milestone; Monte Carlo only where no milestone key answers) and with
the network prior alone (Monte Carlo always), alternating rounds so both see the same machine.

Run: ``SILKWAY_DATABASE_URL=sqlite:///instance/silkway.db .venv/bin/python bench/eta_inflight.py``
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from routing.errors import RoutingError
from routing.eta import EtaEngine
from routing.learning import learn
from routing.network import load_network
from routing.tracks import ParcelTrack, TrackScan, aware
from tracking.db import make_engine
from tracking.tracks import load_tracks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    url = os.environ.get("SILKWAY_DATABASE_URL", f"sqlite:///{Path('instance/silkway.db').resolve()}")
    tracks: list[ParcelTrack] = []
    open_ones: list[ParcelTrack] = []
    with Session(make_engine(url)) as session:
        for stored in load_tracks(session):
            if not stored.scans:
                continue
            scans = tuple(TrackScan(s.place_id, s.country, s.status, s.substatus, s.at, s.number)
                          for s in stored.scans)
            track = ParcelTrack(
                tuple(stored.numbers), stored.service, stored.origin, stored.destination, scans
            )
            tracks.append(track)
            if stored.status in ("in_transit", "info_received", "out_for_delivery"):
                open_ones.append(track)
    if not open_ones:
        raise SystemExit("no parcels under way: build a demo world first (silkway demo)")
    now = max(aware(s.at) for t in tracks for s in t.scans)
    network = load_network()
    started = time.perf_counter()
    model = learn(tracks, network, now)
    print(f"learned from {len(tracks)} parcels in {time.perf_counter() - started:.1f} s; "
          f"timing {min(len(open_ones), options.parcels)} parcels under way, load {os.getloadavg()[0]:.1f}")
    sample = open_ones[: options.parcels]
    engines = {"milestone model": EtaEngine(network, model), "Monte Carlo (prior)": EtaEngine(network)}
    times: dict[str, list[float]] = {name: [] for name in engines}
    for round_ in range(options.rounds + 1):
        for name, engine in engines.items():
            started = time.process_time()
            for track in sample:
                with contextlib.suppress(RoutingError):
                    engine.in_flight(track, now)
            if round_:  # the first round warms routes and plans
                times[name].append((time.process_time() - started) / len(sample) * 1000)
    for name, values in times.items():
        print(f"  {name:<20} median {statistics.median(values):.3f} ms CPU per parcel (rounds: "
              + ", ".join(f"{v:.3f}" for v in values) + ")")
    ratio = statistics.median(times["milestone model"]) / statistics.median(times["Monte Carlo (prior)"])
    print(f"  milestone model / Monte Carlo: {ratio:.2f}; load after {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
