"""Sampling plans: a route as dwell and leg steps with pre-drawn durations, run in bulk with numpy."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from routing.distributions import LogNormal
from routing.holidays_calendar import Calendar, FloatArray, calendar_for, schedule_data
from routing.model import LegTimeModel
from routing.network import IMPORT_EXCHANGE_ROLES, Network, TimeRange
from routing.schedules import Departures, departures_for
from routing.services import Service


@dataclass(frozen=True, slots=True)
class Step:
    """A dwell at a place or a move between two places (one leg, or several when learned as a whole)."""

    kind: str
    origin: str
    destination: str
    dist: LogNormal
    samples: FloatArray
    calendar: Calendar | None
    departures: Departures | None
    # Delivery into a city stops over its holidays too: the last-mile leg runs on working time.
    arrival_calendar: Calendar | None = None

    def advance(self, t: FloatArray, durations: FloatArray) -> FloatArray:
        """Times after this step for parcels ready at ``t`` taking ``durations``."""
        if self.kind == "dwell":
            return t + durations if self.calendar is None else self.calendar.work_end(t, durations)
        if self.departures is not None:
            t = self.departures.next(t)
        elif self.calendar is not None:
            t = self.calendar.resume(t)
        if self.arrival_calendar is not None:
            return self.arrival_calendar.work_end(t, durations)
        return t + durations


_UNIFORMS: dict[int, FloatArray] = {}  # by plan seed
_UNIFORMS_KEPT = 4096  # plans; 16 kB each
UNIFORMS_DRAWN = 2000  # the engine's samples per estimate: every count asked for is a prefix of these


@dataclass(frozen=True, slots=True)
class Plan:
    """The steps of one route for one service, with a fixed seed so that answers are reproducible."""

    service: str
    route: tuple[str, ...]
    steps: tuple[Step, ...]
    seed: int

    def run(self, start: FloatArray, first_step: int = 0) -> FloatArray:
        """Arrival times (epoch hours) for parcels ready for step ``first_step`` at ``start``."""
        t = start
        n = t.shape[0]
        for step in self.steps[first_step:]:
            t = step.advance(t, step.samples[:n])
        return t

    def uniforms(self, n: int) -> FloatArray:
        """Reproducible uniform draws for conditioning the current step of an in-flight parcel: the first
        ``n`` of the plan's stream, drawn once per plan rather than on every estimate."""
        found = _UNIFORMS.get(self.seed)
        if found is None or found.shape[0] < n:
            if len(_UNIFORMS) >= _UNIFORMS_KEPT:
                _UNIFORMS.clear()
            found = np.random.default_rng(self.seed + 1).random(max(n, UNIFORMS_DRAWN))
            found.flags.writeable = False  # shared by every estimate of this plan
            _UNIFORMS[self.seed] = found
        return found[:n]


def _prior_dwell(network: Network, place: str, seen_exchange: bool) -> TimeRange | None:
    node = network.place(place)
    if node.role in IMPORT_EXCHANGE_ROLES and seen_exchange:
        return TimeRange.from_data(schedule_data()["repeat_exchange_dwell_hours"])
    return node.dwell


def _delivery_calendar(network: Network, kind: str, place: str) -> Calendar | None:
    node = network.place(place)
    return calendar_for(node) if kind == "leg" and node.role == "last_mile_city" else None


def _learned(model: LegTimeModel, a: str, b: str) -> bool:
    learned = model.leg(a, b)
    return learned is not None and learned.is_learned


def build_plan(
    network: Network,
    model: LegTimeModel,
    service: Service | None,
    route: Sequence[str],
    samples: int,
    at_origin: bool,
) -> Plan:
    """Turn a route into steps: the dwell at its first place, then legs and the dwells between them.

    ``at_origin`` says the route starts where the merchant hands the parcel over, so the first dwell is
    the service's handling time; learned multi-leg spans replace the legs and dwells they cover.
    """
    route = tuple(route)
    code = service.code if service else "any"
    seed = zlib.crc32(f"{code}|{'>'.join(route)}|{at_origin}".encode())
    specs: list[tuple[str, str, str, LogNormal, Calendar | None, Departures | None]] = []
    seen_exchange = False

    def dwell(place: str, first: bool) -> None:
        nonlocal seen_exchange
        handling = first and at_origin and service is not None
        learned = model.dwell(f"{place}@{service.code}" if handling and service else place)
        prior = service.handling if handling and service else _prior_dwell(network, place, seen_exchange)
        seen_exchange = seen_exchange or network.place(place).role in IMPORT_EXCHANGE_ROLES
        dist = learned.dist if learned else (LogNormal.from_range(prior) if prior else None)
        if dist is not None:
            specs.append(("dwell", place, place, dist, calendar_for(network.place(place)), None))

    dwell(route[0], True)
    i = 0
    while i < len(route) - 1:
        j = next((k for k in range(len(route) - 1, i + 1, -1) if _learned(model, route[i], route[k])), i + 1)
        a, b = route[i], route[j]
        learned = model.leg(a, b)
        calendar = calendar_for(network.place(a))
        if learned is not None and (learned.is_learned or j > i + 1):
            specs.append(("leg", a, b, learned.dist, calendar, None))
        else:
            leg = network.leg(a, b, service.modes if service else None)
            if leg is None:
                raise ValueError(f"route step {a}→{b} is not a leg of the network")
            dist = learned.dist if learned else LogNormal.from_range(leg.hours)
            specs.append(("leg", a, b, dist, calendar, departures_for(leg, network)))
        if j < len(route) - 1:
            dwell(b, False)
        i = j
    z = np.random.default_rng(seed).standard_normal((len(specs), samples))
    steps = tuple(
        Step(kind, a, b, dist, dist.sample(z[k]), calendar, departures, _delivery_calendar(network, kind, b))
        for k, (kind, a, b, dist, calendar, departures) in enumerate(specs)
    )
    return Plan(code, route, steps, seed)
