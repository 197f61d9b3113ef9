"""Remaining time to arrival, learned per milestone from scans (weighted Kaplan–Meier, censored in flight).

Carrier feeds say *what happened* far more reliably than *where*: Cainiao's scans carry no place at all,
and which sorting centre a parcel passed matters less than the fact that it cleared customs. So besides
the leg-by-leg model (``routing.learning``), Silkway learns, for each **milestone** — the region, status,
substatus and place (when known) of a parcel's latest scan — how long parcels took from that scan until
they **arrived**: were delivered or became ready for collection at a pickup point or post office
(the end of a carrier's control time; how long the shopper then takes to collect is not transport).

- Every scan of every parcel in the learning window gives one observation: the hours from the scan to
  the parcel's arrival, or, for a parcel still under way at ``as_of``, the hours it has been going since
  — a right-censored observation. Parcels that turned back or were lost never arrive and are left out.
- Observations weigh ``0.5 ** (age / half_life)`` by the age of their scan, and the survival curve of
  each key is the weighted Kaplan–Meier estimate, so parcels still under way pull the curve up at once
  when a backlog starts (they are censored at long waits) instead of only once they finish.
- Keys run from specific to general: the service (registered, else the UPU item class of the numbers
  known by then, else unknown) with the destination and the milestone and the parcel's age band (hours
  since its first scan, which tells rail from air when the service is unknown), then coarser ones down
  to the region and status. A prediction uses the most specific key with at least ``min_weight`` of
  data that still has parcels at risk after the time already spent; a sparse key thus backs off to its
  parents, and with no usable key at all the engine falls back to its route model and the network prior.
- A prediction conditions on the time already spent since the latest scan: the quantiles of
  ``D | D > elapsed`` from the survival curve.
- Hours to arrival learn slowly (a parcel's arrival is days away), so a backlog is caught where it
  happens: per milestone, the time until the parcel's *next* scan is fitted twice as a censored
  log-normal, over the whole window and weighted to the last day (anchored on the first, as the leg
  model does). Where parcels now wait longer than usual at a milestone, a parcel waiting there has its
  quantiles moved by the difference of the two conditional medians — within a day of the scans (and
  the missing scans) showing it.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from routing.censored import censored_fit
from routing.distributions import LogNormal
from routing.holidays_calendar import FloatArray
from routing.tracks import ParcelTrack, TrackScan, aware

ARRIVAL_STATUSES = frozenset({"available_for_pickup", "delivered"})
NEVER_ARRIVING = frozenset({"returning", "returned", "lost"})
CHINA = frozenset({"CN", "HK"})
LEVELS = np.linspace(0.0, 1.0, 51)  # the cumulative probabilities at which a curve is stored
AGE_BASE = 1.3  # age bands grow by 30 % each (hours since the first scan, offset by 4 h)
MIN_WEIGHT = 20.0
MIN_AT_RISK = 5.0
S10 = re.compile(r"^([A-Z])[A-Z]\d{9}[A-Z]{2}$")
SURGE_HALF_LIFE_DAYS = 1.0
SURGE_STRENGTH = 10.0
MIN_RECENT_WEIGHT = 5.0
MIN_SHIFT_HOURS = 2.0


def arrival_time(track: ParcelTrack, until: datetime | None = None) -> datetime | None:
    """When the parcel reached the shopper (delivered or ready for collection), if it had by ``until``."""
    scans = track.scans_until(until) if until is not None else sorted(track.scans, key=lambda s: aware(s.at))
    return next((aware(s.at) for s in scans if s.status in ARRIVAL_STATUSES), None)


def milestone(scan: TrackScan) -> str:
    """The milestone a scan marks: region, status, substatus and place (``-`` when the feed gave none)."""
    region = "CN" if scan.country in CHINA else "RU" if scan.country == "RU" else "XX"
    return f"{region}|{scan.status}|{scan.substatus}|{scan.place_id or '-'}"


def service_hint(track: ParcelTrack, as_of: datetime) -> str:
    """The registered service, else the UPU item class of an S10 number known by ``as_of``, else ``?``."""
    if track.service:
        return track.service
    for number in track.numbers_until(as_of):
        found = S10.match(number.upper())
        if found:
            return f"class:{found.group(1)}"
    return "?"


def direction(track: ParcelTrack, at: datetime) -> str:
    """``RU>CN`` for a Russia → China parcel as known at ``at`` (an S10 number issued in Russia, or a scan
    in China after one in Russia), else ``""``: China → Russia, the curves' default."""
    if any(S10.match(n.upper()) and n.upper().endswith("RU") for n in track.numbers_until(at)):
        return "RU>CN"
    seen_russia = False
    for scan in track.scans_until(at):
        seen_russia = seen_russia or scan.country == "RU"
        if seen_russia and scan.country in CHINA:
            return "RU>CN"
    return ""


def keys(track: ParcelTrack, scan: TrackScan, first: datetime) -> list[str]:
    """The keys of one (parcel, scan), most specific first; a Russia → China parcel's keys are its own
    (prefixed ``RU>CN:``), so that "departed Moscow" is not read as a China → Russia parcel's last mile."""
    at = aware(scan.at)
    hint = service_hint(track, at)
    place = milestone(scan)
    age = (at - first).total_seconds() / 3600.0
    band = int(math.log(max(age, 0.0) + 4.0) / math.log(AGE_BASE))
    destination = track.destination or "?"
    region = place.split("|", 1)[0]
    found = [
        f"{hint}/{destination}/{place}/{band}",
        f"{hint}/{destination}/{place}",
        f"{hint}/{place}/{band}",
        f"{hint}/{place}",
        place,
        f"{region}|{scan.status}",
    ]
    flow = direction(track, at)
    return [f"{flow}:{key}" for key in found] if flow else found


@dataclass(frozen=True, slots=True)
class Curve:
    """A learned distribution of hours to arrival: hours at the cumulative probabilities ``LEVELS``.

    ``reach`` is the highest cumulative probability the data support (below 1 when the longest
    observations are still under way); beyond it the curve stays at its last observed duration.
    """

    weight: float
    reach: float
    hours: tuple[float, ...]

    def cdf(self, hours: float) -> float:
        """The share of parcels that had arrived within ``hours``."""
        return float(np.interp(hours, self.hours, LEVELS[: len(self.hours)]))

    def conditional(self, elapsed: float, qs: Sequence[float]) -> FloatArray | None:
        """Quantiles of the total duration given more than ``elapsed`` hours have gone by; None when too
        few parcels of this key were still going after that long, or the upper quantile lies beyond what
        the data reach (its longest observations still under way)."""
        done = min(self.cdf(elapsed), self.reach)
        targets = done + np.asarray(qs) * (1.0 - done)
        if (1.0 - done) * self.weight < MIN_AT_RISK or float(targets.max()) > self.reach + 1e-9:
            return None
        grid = np.asarray(self.hours)
        found = np.maximum(np.interp(targets, LEVELS[: grid.size], grid), elapsed)
        return np.asarray(found, dtype=np.float64)

    def to_list(self) -> list[Any]:
        """A compact JSON form."""
        return [round(self.weight, 3), round(self.reach, 4), [round(h, 2) for h in self.hours]]

    @classmethod
    def from_list(cls, data: Sequence[Any]) -> Curve:
        """Read :meth:`to_list`'s form."""
        return cls(float(data[0]), float(data[1]), tuple(float(h) for h in data[2]))


@dataclass(frozen=True, slots=True)
class Slowdown:
    """How long parcels wait at a milestone for their next scan: usually, and in the last days."""

    usual: LogNormal
    now: LogNormal

    def extra_hours(self, elapsed: float) -> float:
        """How much later than usual a parcel that has waited ``elapsed`` hours will move on (median)."""
        return self.now.quantile_beyond(0.5, elapsed) - self.usual.quantile_beyond(0.5, elapsed)

    def to_list(self) -> list[float]:
        """A compact JSON form."""
        return [round(v, 6) for v in (self.usual.mu, self.usual.sigma, self.now.mu, self.now.sigma)]

    @classmethod
    def from_list(cls, data: Sequence[float]) -> Slowdown:
        """Read :meth:`to_list`'s form."""
        return cls(LogNormal(float(data[0]), float(data[1])), LogNormal(float(data[2]), float(data[3])))


@dataclass(frozen=True, slots=True)
class RemainingModel:
    """Hours-to-arrival curves by key, learned as of ``trained_at``."""

    trained_at: datetime | None = None
    observations: int = 0
    curves: Mapping[str, Curve] = field(default_factory=dict)
    settings: Mapping[str, float] = field(default_factory=dict)
    slowdowns: Mapping[str, Slowdown] = field(default_factory=dict)

    def quantiles(
        self, track: ParcelTrack, as_of: datetime, qs: Sequence[float] = (0.1, 0.5, 0.9)
    ) -> list[datetime] | None:
        """Arrival quantiles for a parcel under way, or None when no key has data enough for it."""
        as_of = aware(as_of)
        scans = track.scans_until(as_of)
        arrived = next((aware(s.at) for s in scans if s.status in ARRIVAL_STATUSES), None)
        if arrived is not None:
            return [arrived for _ in qs]
        if not scans:
            return None
        latest = scans[-1]
        since = aware(latest.at)
        elapsed = (as_of - since).total_seconds() / 3600.0
        min_weight = self.settings.get("min_weight", MIN_WEIGHT)
        for key in keys(track, latest, aware(scans[0].at)):
            curve = self.curves.get(key)
            if curve is None or curve.weight < min_weight:
                continue
            hours = curve.conditional(elapsed, qs)
            if hours is not None:
                slowdown = self.slowdowns.get(milestone(latest))
                extra = slowdown.extra_hours(max(elapsed, 0.01)) if slowdown else 0.0
                return [max(since + timedelta(hours=float(h) + extra), as_of) for h in hours]
        return None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict."""
        return {
            "trained_at": self.trained_at.isoformat() if self.trained_at else None,
            "observations": self.observations,
            "settings": dict(self.settings),
            "levels": len(LEVELS),
            "curves": {key: curve.to_list() for key, curve in sorted(self.curves.items())},
            "slowdowns": {key: value.to_list() for key, value in sorted(self.slowdowns.items())},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RemainingModel:
        """Read :meth:`to_dict`'s form."""
        trained = data.get("trained_at")
        return cls(
            trained_at=datetime.fromisoformat(trained) if trained else None,
            observations=int(data.get("observations", 0)),
            curves={key: Curve.from_list(value) for key, value in data.get("curves", {}).items()},
            settings={k: float(v) for k, v in data.get("settings", {}).items()},
            slowdowns={key: Slowdown.from_list(v) for key, v in data.get("slowdowns", {}).items()},
        )

    def digest(self) -> str:
        """A short digest of the curves (part of the model version)."""
        body = json.dumps([self.to_dict()[part] for part in ("curves", "slowdowns")], sort_keys=True)
        return hashlib.sha256(body.encode()).hexdigest()[:10]


def fit_remaining(
    tracks: Iterable[ParcelTrack],
    as_of: datetime,
    half_life_days: float = 30.0,
    min_weight: float = MIN_WEIGHT,
) -> RemainingModel:
    """Learn hours-to-arrival curves from the scans made up to ``as_of``."""
    as_of = aware(as_of)
    index: dict[str, int] = {}
    rows_key: list[int] = []
    rows_hours: list[float] = []
    rows_weight: list[float] = []
    rows_done: list[bool] = []
    waits: dict[str, list[tuple[float, bool, float]]] = {}
    parcels = 0
    for track in tracks:
        scans = track.scans_until(as_of)
        if not scans or any(s.substatus in NEVER_ARRIVING or s.status == "expired" for s in scans):
            continue
        arrived = next((aware(s.at) for s in scans if s.status in ARRIVAL_STATUSES), None)
        end = arrived or as_of
        first = aware(scans[0].at)
        parcels += 1
        for i, scan in enumerate(scans):
            at = aware(scan.at)
            if at >= end:
                break
            following = next((aware(s.at) for s in scans[i + 1 :] if aware(s.at) > at), None)
            waits.setdefault(milestone(scan), []).append(
                (max(((following or as_of) - at).total_seconds() / 3600.0, 0.01), following is not None,
                 (as_of - at).total_seconds() / 86400.0)
            )
            hours = max((end - at).total_seconds() / 3600.0, 0.01)
            weight = 0.5 ** ((as_of - at).total_seconds() / 86400.0 / half_life_days)
            for key in keys(track, scan, first):
                rows_key.append(index.setdefault(key, len(index)))
                rows_hours.append(hours)
                rows_weight.append(weight)
                rows_done.append(arrived is not None)
    names = list(index)
    curves = _kaplan_meier(
        np.asarray(rows_key, dtype=np.int64), np.asarray(rows_hours), np.asarray(rows_weight),
        np.asarray(rows_done, dtype=bool), names, min_weight,
    )
    settings = {"half_life_days": half_life_days, "min_weight": min_weight}
    return RemainingModel(as_of, parcels, curves, settings, _slowdowns(waits, half_life_days))


def _slowdowns(waits: Mapping[str, list[tuple[float, bool, float]]], half_life: float) -> dict[str, Slowdown]:
    """Milestones where parcels now wait for their next scan markedly longer (or shorter) than usual."""
    found: dict[str, Slowdown] = {}
    for key, rows in waits.items():
        hours, done, age = (np.asarray(column) for column in zip(*rows, strict=True))
        recent = 0.5 ** (age / SURGE_HALF_LIFE_DAYS)
        if float(recent.sum()) < MIN_RECENT_WEIGHT or not done.any():
            continue
        logs = np.log(hours)
        done = done.astype(bool)
        weights = 0.5 ** (age / half_life)
        neutral = LogNormal(float(np.median(logs[done])), 1.0)
        usual = censored_fit(logs[done], weights[done], logs[~done], weights[~done], neutral, 1.0)
        now = censored_fit(logs[done], recent[done], logs[~done], recent[~done], usual, SURGE_STRENGTH)
        slowdown = Slowdown(usual, now)
        if abs(slowdown.extra_hours(0.01)) >= MIN_SHIFT_HOURS:
            found[key] = slowdown
    return found


def _kaplan_meier(
    key: np.ndarray, hours: FloatArray, weight: FloatArray, done: np.ndarray, names: list[str],
    min_weight: float,
) -> dict[str, Curve]:
    """Weighted Kaplan–Meier curves for every key with at least ``min_weight`` of data (vectorised)."""
    if key.size == 0:
        return {}
    order = np.lexsort((hours, key))
    key, hours, weight, done = key[order], hours[order], weight[order], done[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    ends = np.r_[starts[1:], key.size]
    cumulative = np.cumsum(weight)
    totals = cumulative[ends - 1] - np.r_[0.0, cumulative[:-1]][starts]
    group_total = np.repeat(totals, ends - starts)
    before = cumulative - weight - np.repeat(np.r_[0.0, cumulative[:-1]][starts], ends - starts)
    at_risk = np.maximum(group_total - before, 1e-12)
    hazard = np.where(done, weight / at_risk, 0.0)
    log_survival = np.log(np.clip(1.0 - hazard, 1e-12, 1.0))
    cum_log = np.cumsum(log_survival)
    offsets = np.repeat(np.r_[0.0, cum_log[:-1]][starts], ends - starts)
    cdf = 1.0 - np.exp(cum_log - offsets)
    curves: dict[str, Curve] = {}
    for k, (a, b) in enumerate(zip(starts, ends, strict=True)):
        if totals[k] < min_weight:
            continue
        f = np.maximum.accumulate(cdf[a:b])
        reach = float(f[-1])
        if reach <= 0.0:
            continue
        # The smallest duration whose cumulative share reaches each level (the last one past the reach).
        at = np.minimum(np.searchsorted(f, np.minimum(LEVELS, reach), side="left"), b - a - 1)
        grid = hours[a:b][at]
        grid[0] = min(grid[0], float(hours[a]))
        curves[names[int(key[a])]] = Curve(float(totals[k]), reach, tuple(float(h) for h in grid))
    return curves
