"""Backtest scoring: predict held-out parcels at checkpoints and compare with baselines (pure functions)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import numpy as np

from routing.errors import RoutingError
from routing.eta import EtaEngine
from routing.learning import fit, observations_from_tracks
from routing.network import Network
from routing.tracks import ParcelTrack, TrackScan, aware

CHECKPOINTS = ("first_scan", "after_export", "after_import")
CHINA = frozenset({"CN", "HK"})


class Quantiles(Protocol):
    """Anything with p10, p50 and p90 datetimes (an EtaEstimate, for one)."""

    @property
    def p10(self) -> datetime:
        """The 10th centile of the delivery time."""
        ...

    @property
    def p50(self) -> datetime:
        """The 50th centile of the delivery time."""
        ...

    @property
    def p90(self) -> datetime:
        """The 90th centile of the delivery time."""
        ...


Predictor = Callable[[ParcelTrack, datetime], Quantiles]


@dataclass(frozen=True, slots=True)
class HeldOut:
    """A parcel with its whole track and its true delivery time."""

    track: ParcelTrack
    delivered_at: datetime


@dataclass(frozen=True, slots=True)
class Flat:
    """A prediction made of three instants."""

    p10: datetime
    p50: datetime
    p90: datetime


@dataclass(frozen=True, slots=True)
class BacktestRow:
    """How one predictor did at one checkpoint."""

    predictor: str
    checkpoint: str
    parcels: int
    mae_hours: float
    coverage: float
    spread_hours: float
    # Parcel checkpoints this predictor could not answer (no route from where the parcel was seen); they
    # are left out of its figures and shown, so a predictor cannot look good by declining hard cases.
    unanswered: int = 0


@dataclass(frozen=True, slots=True)
class BacktestReport:
    """All rows of a backtest, with the sizes of the split."""

    rows: tuple[BacktestRow, ...]
    train_parcels: int
    test_parcels: int

    def format(self) -> str:
        """A plain-text table (MAE of p50 in hours, share of deliveries inside [p10, p90])."""
        lines = [
            f"train parcels: {self.train_parcels}, test parcels: {self.test_parcels}",
            f"{'predictor':<16} {'checkpoint':<13} {'n':>6} {'MAE p50 h':>10} "
            f"{'in p10–p90':>11} {'spread h':>9} {'no answer':>9}",
        ]
        for r in self.rows:
            lines.append(
                f"{r.predictor:<16} {r.checkpoint:<13} {r.parcels:>6} {r.mae_hours:>10.1f} "
                f"{r.coverage:>10.0%} {r.spread_hours:>9.1f} {r.unanswered:>9}"
            )
        return "\n".join(lines)


def checkpoint_time(track: ParcelTrack, checkpoint: str, delivered_at: datetime) -> datetime | None:
    """When a checkpoint was reached: the first scan, the first scan outside China, the first departure
    from a Russian place (the parcel cleared import); None if not reached before delivery."""
    scans = [s for s in track.scans_until(delivered_at) if not s.is_delivered and aware(s.at) < delivered_at]
    tests: dict[str, Callable[[TrackScan], bool]] = {
        "first_scan": lambda s: True,
        "after_export": lambda s: s.country is not None and s.country not in CHINA,
        "after_import": lambda s: s.country == "RU" and (s.is_departure or s.substatus == "customs_cleared"),
    }
    found = next((s for s in scans if tests[checkpoint](s)), None)
    return aware(found.at) if found else None


def score(
    parcels: Sequence[HeldOut], predictors: Mapping[str, Predictor], checkpoints: Sequence[str] = CHECKPOINTS
) -> list[BacktestRow]:
    """Predict each held-out parcel at each checkpoint with each predictor and score the p50 and interval."""
    rows = []
    for name, predict in predictors.items():
        for checkpoint in checkpoints:
            errors, inside, spreads = [], [], []
            unanswered = 0
            for parcel in parcels:
                truth = aware(parcel.delivered_at)
                as_of = checkpoint_time(parcel.track, checkpoint, truth)
                if as_of is None:
                    continue
                try:
                    guess = predict(parcel.track, as_of)
                except RoutingError:
                    unanswered += 1
                    continue
                errors.append(abs((guess.p50 - truth).total_seconds()) / 3600)
                inside.append(guess.p10 <= truth <= guess.p90)
                spreads.append((guess.p90 - guess.p10).total_seconds() / 3600)
            if errors:
                rows.append(BacktestRow(name, checkpoint, len(errors), float(np.mean(errors)),
                                        float(np.mean(inside)), float(np.median(spreads)), unanswered))
    return rows


def service_median_predictor(train: Sequence[HeldOut]) -> Predictor:
    """Baseline: first scan plus the training split's per-service 10/50/90 % delivery durations."""
    durations: dict[str, list[float]] = defaultdict(list)
    for parcel in train:
        scans = parcel.track.scans_until(parcel.delivered_at)
        if scans:
            hours = (aware(parcel.delivered_at) - aware(scans[0].at)).total_seconds() / 3600
            durations[parcel.track.service or ""].append(hours)
            durations["*"].append(hours)
    table = {key: np.percentile(values, [10, 50, 90]) for key, values in durations.items()}

    def predict(track: ParcelTrack, as_of: datetime) -> Quantiles:
        scans = track.scans_until(as_of)
        start = aware(scans[0].at) if scans else aware(as_of)
        q = table.get(track.service or "", table["*"])
        p10, p50, p90 = (max(start + timedelta(hours=float(h)), aware(as_of)) for h in q)
        return Flat(p10, p50, p90)

    return predict


def run_backtest(
    parcels: Sequence[HeldOut], split_at: datetime, network: Network, half_life_days: float = 14.0
) -> BacktestReport:
    """Learn from parcels first scanned before ``split_at`` (as of then), test on the later ones."""
    split_at = aware(split_at)

    def first(parcel: HeldOut) -> datetime:
        scans = parcel.track.scans_until(parcel.delivered_at)
        return aware(scans[0].at) if scans else aware(parcel.delivered_at)

    train = [p for p in parcels if first(p) < split_at]
    test = [p for p in parcels if first(p) >= split_at]
    observations = observations_from_tracks([p.track for p in train], split_at)
    model = fit(observations, network, split_at, half_life_days=half_life_days)
    finished = [p for p in train if aware(p.delivered_at) <= split_at]
    predictors: dict[str, Predictor] = {
        "learned": EtaEngine(network, model).in_flight,
        "network prior": EtaEngine(network).in_flight,
        "service median": service_median_predictor(finished),
    }
    return BacktestReport(tuple(score(test, predictors)), len(train), len(test))
