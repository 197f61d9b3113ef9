"""How well could *any* predictor do at the first scan? An oracle bound on a demo-world history.

The demo world keeps its ground truth apart (table ``demo_truth``): every parcel's real service and
destination, which Silkway itself only knows for parcels a merchant registered. This script splits the
history as ``silkway eta backtest`` does by default (a 30-day test window ending 30 days before the newest
first scan) and scores, at the first scan of each test parcel that arrived:

- ``oracle``: the training split's 10/50/90 % centiles of first-scan-to-arrival hours **for the parcel's
  true (service, destination)** — what a predictor could at best do with all that Silkway cannot see
  at that moment, and nothing about the noise of the journey still ahead;
- ``service median``: the backtest's baseline (registered service, else all parcels).

If even the oracle's MAE is well above 0.6 × the baseline's, no model can reach that ratio at the first
scan of this world: what is left is the journey's own randomness (customs dwell, departures, holds).

Run: ``SILKWAY_DATABASE_URL=sqlite:///instance/silkway.db .venv/bin/python bench/eta_bound.py``
"""

from __future__ import annotations

import os
import sys
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from routing.backtest import Flat, HeldOut, Quantiles, score, service_median_predictor
from routing.remaining import arrival_time
from routing.tracks import ParcelTrack, TrackScan, aware
from tracking.db import make_engine
from tracking.tracks import load_tracks
from web.demo.truth import demo_truth, exists


def main() -> None:
    url = os.environ.get("SILKWAY_DATABASE_URL", f"sqlite:///{Path('instance/silkway.db').resolve()}")
    engine = make_engine(url)
    if not exists(engine):
        raise SystemExit(f"no demo_truth table at {engine.url!r}: build a demo world first (silkway demo)")
    with Session(engine) as session:
        truth = {row.tracking_number: (row.service, row.destination)
                 for row in session.execute(select(demo_truth.c.tracking_number, demo_truth.c.service,
                                                   demo_truth.c.destination))}
        parcels: list[tuple[ParcelTrack, datetime, tuple[str, str] | None]] = []
        newest = None
        for stored in load_tracks(session):
            if not stored.scans:
                continue
            began = stored.scans[0].at
            newest = began if newest is None else max(newest, began)
            if stored.delivered_at is None:
                continue
            scans = tuple(TrackScan(s.place_id, s.country, s.status, s.substatus, s.at, s.number)
                          for s in stored.scans)
            track = ParcelTrack(
                tuple(stored.numbers), stored.service, stored.origin, stored.destination, scans
            )
            arrived = arrival_time(track) or aware(stored.delivered_at)
            lane = next((truth[n] for n in stored.numbers if n in truth), None)
            parcels.append((track, arrived, lane))
    if not parcels or newest is None:
        raise SystemExit("no arrived parcels: build a demo world first (silkway demo)")
    first = {id(t): min(aware(s.at) for s in t.scans) for t, _, _ in parcels}
    split = aware(newest) - timedelta(days=60)
    end = split + timedelta(days=30)
    train = [(t, a, lane) for t, a, lane in parcels if first[id(t)] < split and a <= split]
    test = [(t, a, lane) for t, a, lane in parcels if split <= first[id(t)] < end]
    hours: dict[object, list[float]] = defaultdict(list)
    for track, arrived, lane in train:
        spent = (arrived - first[id(track)]).total_seconds() / 3600
        hours[lane].append(spent)
        hours[lane[0] if lane else None].append(spent)
    table = {key: np.percentile(values, [10, 50, 90]) for key, values in hours.items() if len(values) >= 10}
    lanes = {id(t): lane for t, _, lane in test}

    def oracle(track: ParcelTrack, as_of: datetime) -> Quantiles:
        lane = lanes[id(track)]
        q = table.get(lane) if lane in table else table[lane[0] if lane else None]
        start = first[id(track)]
        return Flat(*(max(start + timedelta(hours=float(h)), aware(as_of)) for h in q))

    baseline = service_median_predictor([HeldOut(t, a) for t, a, _ in train])
    print(f"split {split.isoformat()}: {len(train)} arrived training parcels, {len(test)} test parcels")
    for name, part in (("registered", [p for p in test if p[0].service]),
                       ("unregistered", [p for p in test if not p[0].service]),
                       ("all", test)):
        rows = score([HeldOut(t, a) for t, a, _ in part], {"oracle": oracle, "service median": baseline},
                     ["first_scan"])
        mae = {r.predictor: r for r in rows}
        if len(mae) == 2:
            ratio = mae["oracle"].mae_hours / mae["service median"].mae_hours
            print(f"{name:<13} n={mae['oracle'].parcels:>6}  oracle MAE {mae['oracle'].mae_hours:6.1f} h "
                  f"(in p10–p90 {mae['oracle'].coverage:.0%})  service median MAE "
                  f"{mae['service median'].mae_hours:6.1f} h  ratio {ratio:.2f}")


if __name__ == "__main__":
    main()
