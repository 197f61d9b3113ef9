"""Backtest scoring: predict held-out parcels at checkpoints and compare with baselines (pure functions)."""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import numpy as np

from routing.checkpoints import CHECKPOINTS, checkpoint_time
from routing.errors import RoutingError
from routing.eta import EtaEngine
from routing.learning import learn
from routing.network import Network
from routing.remaining import arrival_time
from routing.tracks import ParcelTrack, aware

BASELINES = ("network prior", "service median")


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
    spread_hours: float  # the median width of [p10, p90]
    # Parcel checkpoints this predictor could not answer (no route from where the parcel was seen); they
    # are left out of its figures and shown, so a predictor cannot look good by declining hard cases.
    unanswered: int = 0
    width_hours: float = 0.0  # the mean width of [p10, p90]
    pinball_hours: float = 0.0  # the mean pinball loss of p10, p50 and p90 (averaged over the three)


@dataclass(frozen=True, slots=True)
class BacktestReport:
    """All rows of a backtest, with the sizes of the split."""

    rows: tuple[BacktestRow, ...]
    train_parcels: int
    test_parcels: int
    models: int = 1

    def ratio(self, checkpoint: str) -> float | None:
        """The learned model's MAE over the better baseline's at a checkpoint (``all``: pooled)."""
        mae = {r.predictor: r.mae_hours for r in self.rows if r.checkpoint == checkpoint}
        baselines = [mae[name] for name in BASELINES if name in mae]
        if "learned" not in mae or not baselines or min(baselines) <= 0:
            return None
        return mae["learned"] / min(baselines)

    def format(self) -> str:
        """A plain-text table: MAE of p50, share of arrivals inside [p10, p90], the window's median and
        mean width and the mean pinball loss of p10/p50/p90 (hours), parcels not answered."""
        lines = [
            f"train parcels: {self.train_parcels}, test parcels: {self.test_parcels}, "
            f"models learned: {self.models}",
            f"{'predictor':<16} {'checkpoint':<13} {'n':>6} {'MAE p50 h':>10} "
            f"{'in p10–p90':>11} {'spread h':>9} {'no answer':>9} {'width h':>8} {'pinball h':>9}",
        ]
        for r in self.rows:
            lines.append(
                f"{r.predictor:<16} {r.checkpoint:<13} {r.parcels:>6} {r.mae_hours:>10.1f} "
                f"{r.coverage:>10.0%} {r.spread_hours:>9.1f} {r.unanswered:>9} {r.width_hours:>8.1f} "
                f"{r.pinball_hours:>9.1f}"
            )
        ratios = [(c, self.ratio(c)) for c in dict.fromkeys(r.checkpoint for r in self.rows)]
        shown = ", ".join(f"{c} {v:.2f}" for c, v in ratios if v is not None)
        if shown:
            lines.append(f"learned MAE / better baseline's: {shown}")
        return "\n".join(lines)


def pinball_hours(guess: Quantiles, truth: datetime) -> float:
    """The pinball (quantile) loss of p10, p50 and p90 against the arrival, averaged over the three."""
    loss = 0.0
    for q, moment in ((0.1, guess.p10), (0.5, guess.p50), (0.9, guess.p90)):
        miss = (truth - moment).total_seconds() / 3600  # positive: arrived after the quantile
        loss += max(q * miss, (q - 1) * miss)
    return loss / 3


@dataclass(slots=True)
class _Scores:
    """One predictor's scores at one checkpoint (or pooled)."""

    errors: list[float]
    inside: list[bool]
    spreads: list[float]
    pinball: list[float]
    unanswered: int = 0

    def row(self, name: str, checkpoint: str) -> BacktestRow:
        return BacktestRow(name, checkpoint, len(self.errors), float(np.mean(self.errors)),
                           float(np.mean(self.inside)), float(np.median(self.spreads)), self.unanswered,
                           float(np.mean(self.spreads)), float(np.mean(self.pinball)))


def score(
    parcels: Sequence[HeldOut], predictors: Mapping[str, Predictor], checkpoints: Sequence[str] = CHECKPOINTS
) -> list[BacktestRow]:
    """Predict each held-out parcel at each checkpoint with each predictor and score the p50 and interval;
    with several checkpoints, a row ``all`` per predictor pools them."""
    rows = []
    pooled: dict[str, list[_Scores]] = defaultdict(list)
    for name, predict in predictors.items():
        for checkpoint in checkpoints:
            scores = _Scores([], [], [], [])
            for parcel in parcels:
                truth = aware(parcel.delivered_at)
                as_of = checkpoint_time(parcel.track, checkpoint, truth)
                if as_of is None:
                    continue
                try:
                    guess = predict(parcel.track, as_of)
                except RoutingError:
                    scores.unanswered += 1
                    continue
                scores.errors.append(abs((guess.p50 - truth).total_seconds()) / 3600)
                scores.inside.append(guess.p10 <= truth <= guess.p90)
                scores.spreads.append((guess.p90 - guess.p10).total_seconds() / 3600)
                scores.pinball.append(pinball_hours(guess, truth))
            if scores.errors:
                rows.append(scores.row(name, checkpoint))
                pooled[name].append(scores)
    if len(checkpoints) > 1:
        for name, parts in pooled.items():
            every = _Scores([e for p in parts for e in p.errors], [i for p in parts for i in p.inside],
                            [x for p in parts for x in p.spreads], [x for p in parts for x in p.pinball],
                            sum(p.unanswered for p in parts))
            rows.append(every.row(name, "all"))
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
    parcels: Sequence[HeldOut],
    split_at: datetime,
    network: Network,
    half_life_days: float = 14.0,
    test_days: float | None = None,
    refit_days: float | None = None,
    others: Sequence[ParcelTrack] = (),
) -> BacktestReport:
    """Learn as of ``split_at`` and test on parcels first scanned after it, against the two baselines.

    The truth is each parcel's arrival: delivery, or readiness at a pickup point or post office when that
    came first. ``test_days`` bounds the test window (parcels first scanned in [split, split + days));
    ``refit_days`` relearns the model (and the service-median baseline) every so many days of the test
    period, from every scan made by then, as the scheduler would, and each prediction uses the newest
    model learned before it. ``others`` are parcels that never arrived (lost, returned, still going):
    they are not scored, but they are what the learner sees of such parcels.
    """
    split_at = aware(split_at)
    arrived = [HeldOut(p.track, arrival_time(p.track, p.delivered_at) or aware(p.delivered_at))
               for p in parcels]
    end = split_at + timedelta(days=test_days) if test_days is not None else None
    first = {id(p): _first(p) for p in arrived}
    train = [p for p in arrived if first[id(p)] < split_at]
    test = [p for p in arrived if first[id(p)] >= split_at and (end is None or first[id(p)] < end)]
    every = [p.track for p in arrived] + list(others)
    points = [split_at]
    if refit_days:
        last = max((aware(p.delivered_at) for p in test), default=split_at)
        while points[-1] + timedelta(days=refit_days) < last:
            points.append(points[-1] + timedelta(days=refit_days))
    learned = [EtaEngine(network, learn(every, network, at)).in_flight for at in points]
    medians = [
        service_median_predictor([p for p in arrived if first[id(p)] < at and aware(p.delivered_at) <= at])
        for at in points
    ]
    predictors: dict[str, Predictor] = {
        "learned": _newest(points, learned),
        "network prior": EtaEngine(network).in_flight,
        "service median": _newest(points, medians),
    }
    return BacktestReport(tuple(score(test, predictors)), len(train), len(test), len(points))


def _first(parcel: HeldOut) -> datetime:
    scans = parcel.track.scans_until(parcel.delivered_at)
    return aware(scans[0].at) if scans else aware(parcel.delivered_at)


def _newest(points: Sequence[datetime], predictors: Sequence[Predictor]) -> Predictor:
    """The predictor learned at the latest point not after each question's ``as_of``."""

    def predict(track: ParcelTrack, as_of: datetime) -> Quantiles:
        index = max(bisect.bisect_right(points, aware(as_of)) - 1, 0)
        return predictors[index](track, as_of)

    return predict
