"""Quotes in bulk: a quote answers the same in any batch as alone, with the plan's own distribution."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from routing.distributions import LogNormal
from routing.errors import NoRoute, UnknownPlace, UnknownService
from routing.eta import EtaEngine
from routing.holidays_calendar import to_hours
from routing.model import LearnedTime, LegTimeModel
from routing.network import load_network
from routing.quotes import QuoteAsk, _timetable, arrivals
from routing.schedules import departure_times, departures_for
from routing.services import load_services

NETWORK = load_network()
ORIGINS = sorted(p.id for p in NETWORK.places.values() if p.role == "origin_hub")
CITIES = sorted(p.id for p in NETWORK.places.values() if p.role == "last_mile_city")
SERVICES = sorted(load_services().services)
# Ordinary days, the run-up to and the middle of Chinese New Year, the Russian January holidays, a
# daylight-saving change in Europe, and a day past the timetables' covered years.
MOMENTS = [
    datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
    datetime(2026, 5, 4, 8, tzinfo=UTC),
    datetime(2026, 9, 17, 23, 59, 59, tzinfo=UTC),
    datetime(2027, 1, 25, 3, tzinfo=UTC),
    datetime(2027, 2, 7, 12, tzinfo=UTC),
    datetime(2026, 12, 24, 18, tzinfo=UTC),
    datetime(2027, 1, 4, 6, tzinfo=UTC),
    datetime(2026, 10, 24, 22, tzinfo=UTC),
    datetime(2040, 12, 20, tzinfo=UTC),
]
# A model with a learned span over several legs (run on the origin's working time, no timetable) and a
# learned customs dwell, besides the prior.
LEARNED = LegTimeModel(
    version="test-learned",
    observations=600,
    legs={"cn_shenzhen>ru_mmpo_sheremetyevo": LearnedTime(LogNormal(math.log(400.0), 0.3), 300, 300.0, 0.9)},
    dwells={"ru_mmpo_sheremetyevo": LearnedTime(LogNormal(math.log(60.0), 0.8), 300, 300.0, 0.9)},
)


def routable(engine: EtaEngine, count: int, seed: int) -> list[QuoteAsk]:
    """``count`` asks on lanes that have a route, at the moments above and at random hours."""
    rng = random.Random(seed)
    asks: list[QuoteAsk] = []
    while len(asks) < count:
        service, origin, city = rng.choice(SERVICES), rng.choice(ORIGINS), rng.choice(CITIES)
        try:
            engine.router.route_for(service, origin, city)
        except NoRoute:
            continue
        later = MOMENTS[0] + timedelta(hours=rng.uniform(0, 9000))
        moment = rng.choice(MOMENTS) if rng.random() < 0.5 else later
        asks.append(QuoteAsk(origin, city, service, moment))
    return asks


@pytest.mark.parametrize("model", [LegTimeModel.prior(), LEARNED], ids=["prior", "learned"])
def test_a_quote_in_a_batch_equals_the_same_quote_asked_alone(model: LegTimeModel) -> None:
    engine = EtaEngine(model=model, samples=500)
    asks = routable(engine, 120, seed=1)
    asks += asks[:10]  # asked twice in one batch
    asks += [QuoteAsk(a.origin, a.destination, a.service, a.ship_at + timedelta(minutes=7)) for a in asks[:9]]
    asks += [QuoteAsk("Shenzhen", "Moscow", "premium_air", m) for m in MOMENTS]  # names, not ids
    batch = engine.quote_many(asks)
    alone = EtaEngine(model=model, samples=500)  # nothing cached from the batch
    for ask, answer in zip(asks, batch, strict=True):
        assert answer == alone.quote(ask.origin, ask.destination, ask.service, ask.ship_at), ask
    shuffled = random.Random(2).sample(range(len(asks)), len(asks))
    assert engine.quote_many([asks[i] for i in shuffled]) == [batch[i] for i in shuffled]


def test_a_batch_with_errors_answers_the_others_and_names_each_failure() -> None:
    engine = EtaEngine(samples=300)
    good = QuoteAsk("Shenzhen", "Moscow", "standard_air", MOMENTS[0])
    asks = [
        good,
        QuoteAsk("Shenzhen", "Atlantis", "standard_air", MOMENTS[0]),
        QuoteAsk("Hangzhou", "Kazan", "sea_rail_far_east", MOMENTS[1]),
        QuoteAsk("Yiwu", "Новосибирск", "economy_rail", MOMENTS[2]),
        QuoteAsk("Gotham", "Moscow", "standard_air", MOMENTS[0]),
        QuoteAsk("Shenzhen", "Moscow", "teleport", MOMENTS[0]),
        QuoteAsk("Shenzhen", "Atlantis", "standard_air", MOMENTS[3]),
    ]
    answers = engine.quote_many(asks)
    failures = {
        i: (type(a), getattr(a, "field", None)) for i, a in enumerate(answers) if isinstance(a, Exception)
    }
    assert failures == {
        1: (UnknownPlace, "destination"),
        2: (NoRoute, "destination"),
        4: (UnknownPlace, "origin"),
        5: (UnknownService, "service"),
        6: (UnknownPlace, "destination"),
    }
    checked = [None if e is None else (type(e), str(e)) for e in engine.quote_errors(asks)]
    assert checked == [(type(a), str(a)) if isinstance(a, Exception) else None for a in answers]
    assert answers[0] == engine.quote(good.origin, good.destination, good.service, good.ship_at)
    assert answers[3] == engine.quote("Yiwu", "Новосибирск", "economy_rail", MOMENTS[2])
    with pytest.raises(UnknownPlace):
        engine.quote("Shenzhen", "Atlantis", "standard_air", MOMENTS[0])


@pytest.mark.parametrize("model", [LegTimeModel.prior(), LEARNED], ids=["prior", "learned"])
def test_batched_arrivals_follow_the_plan_sample_by_sample(model: LegTimeModel) -> None:
    """Rows of quotes run as ``Plan.run`` runs a parcel (the in-flight path), holidays and timetables too.

    The calendar is consulted only where a sample meets a pause, so a sample may differ from
    ``Plan.run``'s by float rounding (the same sum done in another order), never by more.
    """
    engine = EtaEngine(model=model)
    asks = routable(engine, 60, seed=3)
    for ask in asks:
        route = engine.router.route_for(ask.service, ask.origin, ask.destination)
        plan = engine._plan(ask.service, route, at_origin=True)
        starts = np.array([to_hours(ask.ship_at), to_hours(ask.ship_at) - 400.0, to_hours(MOMENTS[4])])
        rows = arrivals(plan, starts, engine.samples)
        for start, row in zip(starts, rows, strict=True):
            alone = plan.run(np.full(engine.samples, start))
            np.testing.assert_allclose(row, alone, rtol=0, atol=1e-6)


def test_timetable_grid_finds_the_departure_a_binary_search_finds() -> None:
    rng = np.random.default_rng(4)
    checked = 0
    legs = [leg for a, b in NETWORK.graph.edges for leg in NETWORK.legs_between(a, b)]
    for leg in legs:
        departures = departures_for(leg, NETWORK)
        if departures.schedule.continuous:
            continue
        times = departure_times(departures.schedule, departures.calendar)
        near = rng.choice(times, 300)
        wanted = np.concatenate([
            rng.uniform(times[0] - 500, times[-1] + 500, 3000),
            near, np.nextafter(near, -np.inf), np.nextafter(near, np.inf), near - 1e-7, near + 1e-7,
            [times[0], times[-1], times[-1] + 1.0, times[0] - 1.0, 0.0, 1e7],
        ])
        found = _timetable(departures.schedule, departures.calendar).first_at_or_after(wanted)
        np.testing.assert_array_equal(found, np.searchsorted(times, wanted, side="left"))
        checked += 1
    assert checked > 10


def test_warming_builds_every_timed_legs_timetable_once() -> None:
    from routing.network import load_network
    from routing.quotes import _timetable, warm_timetables

    network = load_network()
    timed = warm_timetables(network)
    assert timed > 100
    built = _timetable.cache_info()
    warm_timetables(network)
    again = _timetable.cache_info()
    assert again.misses == built.misses and again.hits >= built.hits + timed
