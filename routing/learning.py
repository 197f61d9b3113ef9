"""Learning leg and dwell times from scans: observations, recency weights, censoring and shrinkage.

Each key (a leg "A>B" or a dwell at A) gets a log-normal fitted by EM on log-times: right-censored
observations (parcels still there at ``as_of``) enter through their expected log-time beyond the elapsed
time, and the network prior enters as ``prior_strength`` pseudo-observations, so a sparse leg stays near
its prior (weight n/(n+k)). Weights decay with the age of an observation's start (never its end, which
would favour long durations). A second pass with a short half-life, anchored on the first, lets a
backlog seen in the last days move the estimate at once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import networkx as nx
import numpy as np

from routing.calibration import fit_calibration, held_out
from routing.censored import censored_fit
from routing.distributions import LogNormal
from routing.eta import EtaEngine
from routing.holidays_calendar import FloatArray, schedule_data
from routing.model import LearnedTime, LegTimeModel
from routing.network import Network, TimeRange
from routing.remaining import fit_remaining
from routing.services import ServiceCatalog, load_services
from routing.tracks import ParcelTrack, aware, stays

MIN_HOURS = 0.1


@dataclass(frozen=True, slots=True)
class LegObservation:
    """One observed (or still running, ``ended_at`` None) leg between two places or dwell at one."""

    from_place: str
    to_place: str | None
    kind: str
    started_at: datetime
    ended_at: datetime | None
    service: str | None = None
    at_origin: bool = False

    @property
    def key(self) -> str:
        """The model key: ``"A>B"`` for a leg, the place id for a dwell, ``place@service`` for handling."""
        if self.kind == "dwell":
            return f"{self.from_place}@{self.service}" if self.at_origin and self.service else self.from_place
        return f"{self.from_place}>{self.to_place}"


def observations_from_tracks(tracks: Iterable[ParcelTrack], as_of: datetime) -> list[LegObservation]:
    """Leg and dwell observations from consecutive scans at known places, censored at ``as_of``.

    A dwell runs from the first to the last scan of a stay; a leg from the last scan at one place to the
    first at the next (to the delivery scan for the final city). A parcel last seen leaving a place gives
    a censored leg whose destination is the place most parcels went next from there. A parcel last seen
    arriving gives a censored dwell where parcels are usually scanned more than once, else a censored leg
    (at a place scanned once, the last scan is the departure).
    """
    as_of = aware(as_of)
    done: list[LegObservation] = []
    open_legs: list[LegObservation] = []
    unclear: list[LegObservation] = []
    for track in tracks:
        visits = stays(track.scans_until(as_of))
        for i, stay in enumerate(visits):
            if stay.delivered:
                break
            nxt = visits[i + 1] if i + 1 < len(visits) else None
            still_here = nxt is None and not stay.left
            if still_here:
                unclear.append(
                    LegObservation(stay.place, stay.place, "dwell", stay.first, None, track.service, i == 0)
                )
                continue
            if stay.last > stay.first:
                dwell = LegObservation(
                    stay.place, stay.place, "dwell", stay.first, stay.last, track.service, at_origin=i == 0
                )
                done.append(dwell)
            if nxt is None:
                open_legs.append(LegObservation(stay.place, None, "leg", stay.last, None, track.service))
            else:
                end = nxt.last if nxt.delivered else nxt.first
                done.append(LegObservation(stay.place, nxt.place, "leg", stay.last, end, track.service))
    following: dict[str, Counter[str]] = defaultdict(Counter)
    for obs in done:
        if obs.kind == "leg" and obs.to_place:
            following[obs.from_place][obs.to_place] += 1
    dwelling = {obs.key for obs in done if obs.kind == "dwell"}
    for obs in unclear:
        if obs.key in dwelling:
            done.append(obs)
        else:
            open_legs.append(LegObservation(obs.from_place, None, "leg", obs.started_at, None, obs.service))
    for obs in open_legs:
        if following[obs.from_place]:
            target = following[obs.from_place].most_common(1)[0][0]
            done.append(LegObservation(obs.from_place, target, "leg", obs.started_at, None, obs.service))
    return done


def _prior(network: Network, obs: LegObservation, catalog: ServiceCatalog) -> TimeRange | None:
    service = catalog.services.get(obs.service or "")
    if obs.kind == "dwell" and obs.at_origin and service is not None:
        return service.handling
    if obs.kind == "dwell":
        dwell = network.place(obs.from_place).dwell
        return dwell or TimeRange.from_data(schedule_data()["unknown_place_dwell_hours"])
    a, b = obs.from_place, str(obs.to_place)
    leg = network.leg(a, b)
    if leg is not None:
        return leg.hours
    try:
        path = nx.dijkstra_path(network.graph, a, b, weight=lambda u, v, _: _typical(network, u, v))
    except (nx.NetworkXNoPath, nx.NodeNotFound):
        return None
    # A span of several legs: the path's legs and the dwells between them, added up.
    low = typical = high = 0.0
    for u, v in itertools.pairwise(path):
        leg = network.leg(u, v)
        dwell = network.place(v).dwell if v != b else None
        for part in (leg.hours if leg else None, dwell):
            if part:
                low, typical, high = low + part.min, typical + part.typical, high + part.max
    return TimeRange(low, typical, high)


def _typical(network: Network, u: str, v: str) -> float | None:
    leg = network.leg(u, v)
    return None if leg is None else leg.hours.typical


def fit(
    observations: Iterable[LegObservation],
    network: Network,
    as_of: datetime,
    half_life_days: float = 14.0,
    prior_strength: float = 5.0,
    surge_half_life_days: float = 1.0,
    surge_strength: float = 10.0,
    catalog: ServiceCatalog | None = None,
) -> LegTimeModel:
    """Fit a leg-time model to observations made up to ``as_of`` (recent ones weigh more)."""
    as_of = aware(as_of)
    groups: dict[str, list[LegObservation]] = defaultdict(list)
    for obs in observations:
        known = obs.from_place in network.places and (obs.kind == "dwell" or obs.to_place in network.places)
        if known and aware(obs.started_at) <= as_of:
            groups[obs.key].append(obs)
    legs: dict[str, LearnedTime] = {}
    dwells: dict[str, LearnedTime] = {}
    for key, group in sorted(groups.items()):
        prior = _prior(network, group[0], catalog or load_services())
        if prior is None:
            continue
        age = np.array([(as_of - aware(o.started_at)).total_seconds() / 86400 for o in group])
        ends = [o.ended_at for o in group]
        hours = np.array([
            max(((aware(e) if e else as_of) - aware(o.started_at)).total_seconds() / 3600, MIN_HOURS)
            for o, e in zip(group, ends, strict=True)
        ])
        done = np.array([e is not None for e in ends])
        logs = np.log(hours)
        learned = _two_pass(logs, done, age, LogNormal.from_range(prior), half_life_days, prior_strength,
                            surge_half_life_days, surge_strength)
        (dwells if group[0].kind == "dwell" else legs)[key] = learned
    count = sum(len(g) for g in groups.values())
    settings = {"half_life_days": half_life_days, "prior_strength": prior_strength,
                "surge_half_life_days": surge_half_life_days, "surge_strength": surge_strength}
    body = json.dumps({"legs": {k: v.to_dict() for k, v in legs.items()},
                       "dwells": {k: v.to_dict() for k, v in dwells.items()}}, sort_keys=True)
    digest = hashlib.sha256(body.encode()).hexdigest()[:10]
    version = f"{as_of:%Y%m%dT%H%M%SZ}-{digest}"
    return LegTimeModel(version, as_of, count, legs, dwells, settings)


def _two_pass(
    logs: FloatArray, done: np.ndarray, age: FloatArray, prior: LogNormal, half_life: float,
    strength: float, surge_half_life: float, surge_strength: float,
) -> LearnedTime:
    weights = 0.5 ** (age / half_life)
    long_run = censored_fit(logs[done], weights[done], logs[~done], weights[~done], prior, strength)
    recent = 0.5 ** (age / surge_half_life)
    current = censored_fit(logs[done], recent[done], logs[~done], recent[~done], long_run, surge_strength)
    effective = float(weights.sum())
    return LearnedTime(current, int(logs.size), effective, effective / (effective + strength))


def learn(
    tracks: Iterable[ParcelTrack], network: Network, as_of: datetime, catalog: ServiceCatalog | None = None,
    calibrate: bool = True,
) -> LegTimeModel:
    """The whole model from parcels' scans up to ``as_of``: legs and dwells, hours to arrival by milestone
    and, with ``calibrate``, the split-conformal corrections of its windows by checkpoint (held-out
    parcels told by a model learned from the others: ``routing.calibration``); its version covers all."""
    tracks = list(tracks)
    model = fit(observations_from_tracks(tracks, as_of), network, as_of, catalog=catalog)
    remaining = fit_remaining(tracks, as_of)
    corrections: dict[str, float] = {}
    if calibrate:
        held = [t for t in tracks if held_out(t)]
        others = learn([t for t in tracks if not held_out(t)], network, as_of, catalog, calibrate=False)
        corrections = fit_calibration(held, as_of, EtaEngine(network, others, catalog).in_flight)
    calibration = json.dumps(corrections, sort_keys=True) if corrections else ""
    text = model.version + remaining.digest() + calibration
    digest = hashlib.sha256(text.encode()).hexdigest()[:10]
    version = f"{aware(as_of):%Y%m%dT%H%M%SZ}-{digest}"
    return dataclasses.replace(model, version=version, remaining=remaining, calibration=corrections)
