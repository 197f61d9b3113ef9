"""The ETA engine: delivery-time quantiles by Monte Carlo along a service's route, before and in flight."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import networkx as nx
import numpy as np

from routing.calibration import calibrated
from routing.checkpoints import checkpoint_at
from routing.errors import NoEstimate, NoRoute, RoutingError
from routing.factors import Factor, factors
from routing.holidays_calendar import FloatArray, from_hours, to_hours
from routing.inference import Candidate, candidates
from routing.milestone_pauses import pauses_ahead, through_pauses
from routing.model import LegTimeModel
from routing.network import Network, load_network
from routing.plans import Plan, build_plan
from routing.positions import placed_track
from routing.quotes import QuoteAsk, plan_quantiles
from routing.remaining import ARRIVAL_STATUSES
from routing.services import Router, ServiceCatalog, load_services
from routing.tracks import ParcelTrack, Stay, aware, stays

SAMPLES = 2000
DEFAULT_ORIGIN = "cn_shenzhen"  # the largest origin; used when a parcel says nothing of where it began

# How an answer was worked out (EtaEstimate.basis): logs say it; the API's answer does not change with it.
ARRIVED = "arrived"  # the parcel has arrived: its arrival scan's time
MILESTONE = "milestone"  # the learned hours to arrival from its latest milestone (routing.remaining)
MONTE_CARLO = "monte_carlo"  # a Monte Carlo run along a service's route (quotes, and parcels under way)
FASTEST_PATH = "fastest_path"  # a Monte Carlo run along the fastest path: no service explains the scans
# How likely a parcel's answer says its p10-p90 window holds the arrival (EtaAnswer.confidence).
WINDOW_CONFIDENCE = 0.8


@dataclass(frozen=True, slots=True)
class EtaEstimate:
    """Delivery-time quantiles (aware UTC datetimes) with the route and the model that produced them."""

    p10: datetime
    p50: datetime
    p90: datetime
    route: list[str]
    service: str
    model_version: str
    learned_from: int
    candidates: tuple[Candidate, ...] = field(default=())
    basis: str = MONTE_CARLO  # ARRIVED, MILESTONE, MONTE_CARLO or FASTEST_PATH; not part of to_dict()
    learned_at: datetime | None = None  # the end of the model's learning window (None: the network prior)
    factors: tuple[Factor, ...] = ()  # why, largest first (routing.factors); in-flight answers only

    @property
    def from_prior(self) -> bool:
        """True for a parcel under way answered by the network prior alone (no model learned from scans)."""
        return self.learned_from == 0 and self.basis != ARRIVED

    @property
    def spread_hours(self) -> float:
        """Width of the 80 % interval, in hours."""
        return (self.p90 - self.p10).total_seconds() / 3600.0

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ETA answers (``p10``, ``p50``, ``p90``, ``route``, ``model``...)."""
        return {
            "p10": self.p10.isoformat(),
            "p50": self.p50.isoformat(),
            "p90": self.p90.isoformat(),
            "route": list(self.route),
            "service": self.service,
            "model": {
                "version": self.model_version,
                "learned_from": self.learned_from,
                "learned_at": self.learned_at.isoformat() if self.learned_at else None,
            },
            "spread_hours": round(self.spread_hours, 1),
            "candidates": [
                {"service": c.service, "destination": c.destination, "probability": round(c.weight, 4)}
                for c in self.candidates
            ],
            "factors": [f.to_dict() for f in self.factors],
        }


@dataclass(frozen=True, slots=True)
class EtaAnswer:
    """A parcel's in-flight ETA as told at ``as_of`` (aware UTC): the engine's estimate and how likely its
    p10-p90 window is. The lookups keep it, the pages read it, the APIs send ``to_json()``."""

    estimate: EtaEstimate
    as_of: datetime
    confidence: float = WINDOW_CONFIDENCE

    @classmethod
    def told(cls, estimate: EtaEstimate, as_of: datetime) -> EtaAnswer:
        """The answer of ``estimate`` worked out at ``as_of`` (any aware time; kept in UTC)."""
        return cls(estimate, as_of.astimezone(UTC))

    def to_json(self) -> dict[str, Any]:
        """The ETA answer of docs/contract.md: ``EtaEstimate.to_dict()`` with p10/p50/p90 as aware
        datetimes (orjson writes them as ISO 8601), then ``as_of`` and ``confidence``."""
        body = self.estimate.to_dict()
        estimate = self.estimate
        body.update(p10=estimate.p10, p50=estimate.p50, p90=estimate.p90, as_of=self.as_of,
                    confidence=self.confidence)
        return body


P10_50_90 = (0.1, 0.5, 0.9)


def percentiles(values: FloatArray, qs: Sequence[float]) -> list[float]:
    """``np.percentile(values, 100 * qs)`` (its default linear method, bit for bit) from one partial sort:
    np.percentile's own overhead was most of an in-flight Monte Carlo estimate's tail."""
    n = values.shape[0]
    positions = [q * (n - 1) for q in qs]
    below = [math.floor(p) for p in positions]
    kth = sorted({i for b in below for i in (b, min(b + 1, n - 1))})
    part = np.partition(values, kth)
    out = []
    for p, b in zip(positions, below, strict=True):
        a, c, t = float(part[b]), float(part[min(b + 1, n - 1)]), p - b
        diff = c - a
        out.append(c - diff * (1 - t) if t >= 0.5 else a + diff * t)
    return out


class EtaEngine:
    """Answers ETA questions from a network and a leg-time model; build one per model and share it."""

    def __init__(
        self,
        network: Network | None = None,
        model: LegTimeModel | None = None,
        catalog: ServiceCatalog | None = None,
        samples: int = SAMPLES,
    ) -> None:
        self.network = network or load_network()
        self.model = model or LegTimeModel.prior()
        self.router = Router(self.network, catalog or load_services())
        self.samples = samples
        self._plans: dict[tuple[str, tuple[str, ...], bool], Plan] = {}

    def quote(self, origin: str, destination: str, service: str, ship_at: datetime) -> EtaEstimate:
        """Quantiles of the delivery time of a parcel handed over at ``origin`` at ``ship_at``."""
        [answer] = self.quote_many([QuoteAsk(origin, destination, service, ship_at)])
        if isinstance(answer, RoutingError):
            raise answer
        return answer

    def quote_many(self, asks: Sequence[QuoteAsk]) -> list[EtaEstimate | RoutingError]:
        """An answer per ask, in order: its quote, or the error that stops it (UnknownPlace, NoRoute...).

        Each distinct (service, origin, destination) is routed once, and the quotes that share a plan
        run together (``routing.quotes``); a quote answers the same in any batch as alone.
        """
        found = self._quote_lanes(asks)
        jobs = [(f[1], to_hours(aware(a.ship_at))) for a, f in zip(asks, found, strict=True)
                if isinstance(f, tuple)]
        table = iter(plan_quantiles(jobs, self.samples).tolist())
        answers: list[EtaEstimate | RoutingError] = []
        for ask, lane_found in zip(asks, found, strict=True):
            if isinstance(lane_found, RoutingError):
                answers.append(lane_found)
                continue
            p10, p50, p90 = (from_hours(hours) for hours in next(table))
            answers.append(EtaEstimate(p10, p50, p90, list(lane_found[0]), ask.service, self.model.version,
                                       self.model.observations, learned_at=self.model.trained_at))
        return answers

    def quote_errors(self, asks: Sequence[QuoteAsk]) -> list[RoutingError | None]:
        """Each ask's routing error (UnknownPlace, NoRoute...) or None, found without running any quote."""
        return [f if isinstance(f, RoutingError) else None for f in self._quote_lanes(asks)]

    def _quote_lanes(self, asks: Sequence[QuoteAsk]) -> list[tuple[list[str], Plan] | RoutingError]:
        """Each ask's route and plan, or its error; each distinct (service, origin, destination) once."""
        lanes: dict[tuple[str, str, str], tuple[list[str], Plan] | RoutingError] = {}
        for ask in asks:
            lane = (ask.service, ask.origin, ask.destination)
            if lane not in lanes:
                try:
                    route = self.router.route_for(ask.service, ask.origin, ask.destination)
                    lanes[lane] = (route, self._plan(ask.service, route, at_origin=True))
                except RoutingError as exc:
                    lanes[lane] = exc
        return [lanes[(ask.service, ask.origin, ask.destination)] for ask in asks]

    def in_flight(self, track: ParcelTrack, as_of: datetime) -> EtaEstimate:
        """Quantiles of the arrival time of a parcel under way, given its scans up to ``as_of``.

        Arrival is delivery or readiness for collection at a pickup point or post office. With a learned
        model, the hours to arrival come from the parcel's latest milestone (``routing.remaining``);
        without one, or for a milestone too rare to have been learned, from a Monte Carlo run along the
        route from where the parcel was last placed. When neither can tell, NoEstimate (a NoRoute) says
        why of both; the answer's ``basis`` says which one told it.
        """
        as_of = aware(as_of)
        scans = track.scans_until(as_of)
        arrived = [s for s in scans if s.status in ARRIVAL_STATUSES]
        known = [s for s in scans if s.place_id in self.network.places]
        visited = [s.place for s in stays(known)]
        if arrived:
            at = aware(arrived[0].at)
            return EtaEstimate(at, at, at, visited, track.service or "unknown", self.model.version,
                               self.model.observations, basis=ARRIVED, learned_at=self.model.trained_at)
        learned = self._milestone_quantiles(track, scans, as_of)
        if learned is not None:
            options = candidates(self.router, track, as_of, DEFAULT_ORIGIN)
            return self._explained(self._by_milestone(learned, options, visited, track), track, as_of)
        return self._explained(self._by_route_or_say_why(track, as_of), track, as_of)

    def _milestone_quantiles(
        self, track: ParcelTrack, scans: Sequence[Any], as_of: datetime
    ) -> list[datetime] | None:
        """The milestone model's arrival quantiles, through the holiday pauses ahead that its history
        did not hold (``routing.milestone_pauses``); None when it has no curve for the parcel."""
        remaining = self.model.remaining
        found = remaining.quantiles(track, as_of) if remaining else None
        if found is None or remaining is None or not scans:
            return found
        half_life = remaining.settings.get("half_life_days", 30.0)
        calendar = pauses_ahead(scans[-1].country, remaining.trained_at, half_life)
        return through_pauses(found, as_of, calendar) if calendar is not None else found

    def _explained(self, estimate: EtaEstimate, track: ParcelTrack, as_of: datetime) -> EtaEstimate:
        """``estimate`` with its window calibrated at the parcel's checkpoint (``routing.calibration``)
        and its factors (``routing.factors``)."""
        checkpoint = checkpoint_at(track, as_of)
        correction = self.model.calibration.get(checkpoint) if checkpoint else None
        p10, p90 = estimate.p10, estimate.p90
        if correction is not None:
            p10, p90 = calibrated(p10, estimate.p50, p90, as_of, correction)
        found = factors(self.network, self.model, track, as_of, estimate.p50, estimate.route,
                        estimate.basis == MILESTONE)
        return dataclasses.replace(estimate, p10=p10, p90=p90, factors=found)

    def _by_route_or_say_why(self, track: ParcelTrack, as_of: datetime) -> EtaEstimate:
        """The Monte Carlo answer, or NoEstimate saying why neither way could tell."""
        # The route is read from where the scans really place the parcel (a customs scan named after a
        # city is at that city's exchange office, not in its last mile).
        track = placed_track(self.network, track)
        scans = track.scans_until(as_of)
        known = [s for s in scans if s.place_id in self.network.places]
        options = candidates(self.router, track, as_of, DEFAULT_ORIGIN)
        try:
            return self._by_route(track, options, known, scans, as_of)
        except NoRoute as exc:
            # Neither way could tell: say why the milestone model had nothing, and where the route failed.
            why = "no milestone model learned yet" if self.model.remaining is None else (
                "the milestone model has no curve for its latest milestone")
            raise NoEstimate(exc.service, exc.origin, exc.destination, why) from exc

    def _by_route(
        self, track: ParcelTrack, options: list[Candidate], known: Sequence[Any], scans: Sequence[Any],
        as_of: datetime,
    ) -> EtaEstimate:
        """A Monte Carlo answer along the candidates' routes from where the parcel is, else the fastest
        path from there."""
        if not options:
            return self._fallback(track, known, as_of)
        counts = np.maximum(np.round(np.array([c.weight for c in options]) * self.samples), 1).astype(int)
        parts = []
        routes = []
        for candidate, n in zip(options, counts, strict=True):
            arrival, route = self._from_position(candidate, stays(known), scans, as_of, int(n))
            if arrival is not None:
                parts.append(arrival)
                routes.append(route)
        if not parts:
            return self._fallback(track, known, as_of)
        best = options[0]
        return self._estimate(np.concatenate(parts), routes[0], best.service, tuple(options))

    def _by_milestone(
        self, quantiles: list[datetime], options: list[Candidate], visited: list[str], track: ParcelTrack
    ) -> EtaEstimate:
        """An answer from the learned hours to arrival; the route is the likeliest reading's."""
        route, service = visited, track.service or "unknown"
        if options:
            best = options[0]
            route, service = self.router.route_for(best.service, best.origin, best.destination), best.service
        p10, p50, p90 = quantiles
        return EtaEstimate(p10, p50, p90, list(route), service, self.model.version, self.model.observations,
                           tuple(options), basis=MILESTONE, learned_at=self.model.trained_at)

    def _from_position(
        self, candidate: Candidate, visits: list[Stay], scans: Sequence[Any], as_of: datetime, n: int
    ) -> tuple[FloatArray | None, list[str]]:
        """Arrival samples for one candidate reading, conditioned on where the parcel is and since when."""
        now = to_hours(as_of)
        if not visits:
            # Nothing scanned at a known place: the parcel is still being handled at its origin.
            route = self.router.route_for(candidate.service, candidate.origin, candidate.destination)
            since = to_hours(aware(scans[0].at)) if scans else now
            plan = self._plan(candidate.service, route, at_origin=True)
            return self._condition(plan, 0, since, now, n), route
        here = visits[-1]
        try:
            route = self.router.route_for(candidate.service, here.place, candidate.destination, resume=True)
        except NoRoute:
            return None, []
        if len(route) == 1:
            # In its destination city but not arrived: the rest of the leg into the city (its last mile).
            full = self.router.route_for(candidate.service, candidate.origin, candidate.destination)
            return self._last_mile(candidate.service, full[-2:], here, as_of, n), route
        at_origin = len(visits) == 1 and here.place == candidate.origin
        plan = self._plan(candidate.service, route, at_origin=at_origin)
        if not plan.steps:
            return np.full(n, now), route
        first = plan.steps[0]
        if here.left:
            index = 1 if first.kind == "dwell" else 0
            return self._condition(plan, index, to_hours(here.last), now, n), route
        if first.kind == "dwell":
            return self._condition(plan, 0, to_hours(here.first), now, n), route
        # No dwell here: the parcel moves on at once, so it has been on the next leg since its last scan.
        return self._condition(plan, 0, to_hours(here.last), now, n), route

    def _last_mile(
        self, service: str, route: Sequence[str], here: Stay, as_of: datetime, n: int
    ) -> FloatArray:
        """Arrival samples for a parcel scanned in its destination city since ``here.first``: the leg
        into the city (``route``, its last two places) conditioned on the time already spent on it."""
        now = to_hours(as_of)
        if len(route) < 2:
            return np.full(n, now)
        plan = self._plan(service, route, at_origin=False)
        index = 1 if plan.steps and plan.steps[0].kind == "dwell" else 0
        return self._condition(plan, index, to_hours(here.first), now, n)

    def _condition(self, plan: Plan, index: int, since: float, now: float, n: int) -> FloatArray:
        """Finish step ``index`` (begun at ``since``) given it has not finished by ``now``, then the rest."""
        if index >= len(plan.steps):
            return np.full(n, now)
        step = plan.steps[index]
        u = plan.uniforms(n)
        calendar = step.calendar if step.kind == "dwell" else step.arrival_calendar
        if calendar is not None:
            start_w = float(calendar.working_clock(np.array([since]))[0])
            done_w = float(calendar.working_clock(np.array([now]))[0]) - start_w
            total = step.dist.sample_beyond(u, done_w)
            end = calendar.real_time(start_w + total)
        else:
            end = since + step.dist.sample_beyond(u, now - since)
        return plan.run(np.maximum(end, now), index + 1)

    def _fallback(self, track: ParcelTrack, known: Sequence[Any], as_of: datetime) -> EtaEstimate:
        """No service explains the scans: follow the fastest path of any mode from the last place."""
        here = known[-1].place_id if known else DEFAULT_ORIGIN
        target = "ru_moscow"
        if track.destination:
            target = self.network.resolve(track.destination, "destination")

        # Only the legs of the parcel's own direction (a Russia → China leg is no way between Russian cities).
        flow = "RU>CN" if self.network.place(target).country == "CN" else "CN>RU"

        def weight(u: str, v: str, _: Any) -> float | None:
            leg = self.network.leg(u, v)
            usable = leg is not None and leg.flow == flow and self.network.is_active(v)
            return leg.hours.typical if usable and leg is not None else None

        try:
            route = list(nx.dijkstra_path(self.network.graph, here, target, weight=weight))
        except (nx.NetworkXNoPath, nx.NodeNotFound):
            raise NoRoute(track.service or "unknown", str(here), target) from None
        if len(route) == 1:
            # Scanned in the city it is bound for, not arrived: the fastest leg into it, under way since.
            into = [(leg.hours.typical, u) for u in self.network.graph.predecessors(target)
                    if (leg := self.network.leg(u, target)) is not None and self.network.is_active(u)]
            if not into:
                raise NoRoute(track.service or "unknown", str(here), target)
            last = [s for s in stays(known) if s.place == target][-1]
            arrival = self._last_mile("", [min(into)[1], target], last, as_of, self.samples)
            return self._estimate(arrival, route, "unknown", (), basis=FASTEST_PATH)
        plan = self._plan("", route, at_origin=False)
        since = to_hours(aware(known[-1].at)) if known else to_hours(as_of)
        arrival = self._condition(plan, 0, since, to_hours(as_of), self.samples)
        return self._estimate(arrival, route, "unknown", (), basis=FASTEST_PATH)

    def _plan(self, service: str, route: Sequence[str], at_origin: bool) -> Plan:
        key = (service, tuple(route), at_origin)
        if key not in self._plans:
            svc = self.router.catalog.get(service) if service else None
            self._plans[key] = build_plan(self.network, self.model, svc, route, self.samples, at_origin)
        return self._plans[key]

    def _estimate(
        self, arrival: FloatArray, route: list[str], service: str, options: tuple[Candidate, ...],
        basis: str = MONTE_CARLO,
    ) -> EtaEstimate:
        p10, p50, p90 = percentiles(arrival, P10_50_90)
        return EtaEstimate(from_hours(p10), from_hours(p50), from_hours(p90), list(route), service,
                           self.model.version, self.model.observations, options, basis, self.model.trained_at)

