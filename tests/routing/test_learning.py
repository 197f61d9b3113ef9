"""Learning leg times from scans: observations, censoring, shrinkage, recency and serialisation."""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime, timedelta

from routing.eta import EtaEngine
from routing.learning import LegObservation, fit, observations_from_tracks
from routing.model import LegTimeModel
from routing.network import load_network
from routing.tracks import ParcelTrack, TrackScan

T0 = datetime(2026, 4, 1, tzinfo=UTC)
MMPO = "ru_mmpo_sheremetyevo"


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def scan(place: str, hours: float, substatus: str = "arrived", status: str = "in_transit") -> TrackScan:
    return TrackScan(place, place[:2].upper(), status, substatus, at(hours))


def dwells(n: int, median: float, start: datetime, days: float, as_of: datetime, seed: int = 1,
           stop_at: datetime | None = None) -> list[LegObservation]:
    """Synthetic MMPO dwells starting uniformly over ``days``; none ends after ``stop_at`` (a backlog)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        begun = start + timedelta(hours=rng.uniform(0, days * 24))
        if begun > as_of:
            continue
        end = begun + timedelta(hours=math.exp(math.log(median) + 0.5 * rng.gauss(0, 1)))
        limit = min(as_of, stop_at) if stop_at else as_of
        out.append(LegObservation(MMPO, MMPO, "dwell", begun, end if end <= limit else None))
    return out


def test_scans_become_dwell_and_leg_observations() -> None:
    track = ParcelTrack(
        ("RX1",), "standard_air", "cn_shenzhen", "ru_moscow",
        [
            scan("cn_shenzhen", 0, "picked_up"),
            scan("cn_shenzhen", 20, "departed"),
            scan(MMPO, 60),
            scan(MMPO, 100, "departed"),
            scan("ru_asc_podolsk", 110),
            scan("ru_moscow", 150, "recipient", "delivered"),
        ],
    )
    got = {(o.kind, o.key, o.started_at, o.ended_at) for o in observations_from_tracks([track], at(200))}
    assert got == {
        ("dwell", "cn_shenzhen@standard_air", at(0), at(20)),
        ("leg", f"cn_shenzhen>{MMPO}", at(20), at(60)),
        ("dwell", MMPO, at(60), at(100)),
        ("leg", f"{MMPO}>ru_asc_podolsk", at(100), at(110)),
        ("leg", "ru_asc_podolsk>ru_moscow", at(110), at(150)),
    }


def test_parcels_still_under_way_give_censored_observations() -> None:
    waiting = ParcelTrack(("A",), None, None, None, [scan("cn_shenzhen", 0, "departed"), scan(MMPO, 30)])
    moving = ParcelTrack(("B",), None, None, None, [scan(MMPO, 0), scan(MMPO, 40, "departed")])
    finished = ParcelTrack(("C",), None, None, None, [scan(MMPO, 0, "departed"), scan("ru_asc_podolsk", 9)])
    got = observations_from_tracks([waiting, moving, finished], at(50))
    open_ = {(o.kind, o.key, o.started_at) for o in got if o.ended_at is None}
    # Nobody was scanned twice at Podolsk and nobody left it yet: C's stay there tells nothing.
    assert open_ == {("dwell", MMPO, at(30)), ("leg", f"{MMPO}>ru_asc_podolsk", at(40))}


def test_scans_after_as_of_are_not_learned_from() -> None:
    track = ParcelTrack(("A",), None, None, None, [scan(MMPO, 0), scan(MMPO, 80, "departed")])
    other = ParcelTrack(("B",), None, None, None, [scan(MMPO, 1), scan(MMPO, 20, "departed")])
    got = observations_from_tracks([track, other], at(50))
    assert {(o.started_at, o.ended_at) for o in got if o.kind == "dwell"} == {(at(0), None), (at(1), at(20))}


def test_censored_observations_do_not_bias_the_estimate_low() -> None:
    as_of = T0 + timedelta(days=30)
    observations = dwells(3000, 96.0, T0, 30, as_of)
    with_censoring = fit(observations, load_network(), as_of).dwell(MMPO)
    completed_only = fit([o for o in observations if o.ended_at], load_network(), as_of).dwell(MMPO)
    assert with_censoring is not None and completed_only is not None
    assert abs(with_censoring.dist.median - 96.0) < 96.0 * 0.1
    assert completed_only.dist.median < with_censoring.dist.median * 0.85


def test_sparse_leg_is_shrunk_toward_the_network_prior() -> None:
    network = load_network()
    prior = network.place(MMPO).dwell
    assert prior is not None
    as_of = T0 + timedelta(days=10)
    few = fit(dwells(3, 200.0, T0, 9, as_of, stop_at=None), network, as_of).dwell(MMPO)
    many = fit(dwells(800, 200.0, T0, 9, as_of), network, as_of).dwell(MMPO)
    assert few is not None and many is not None
    assert few.weight < 0.5 < many.weight
    assert prior.typical < few.dist.median < many.dist.median
    assert abs(many.dist.median - 200.0) < 25.0


def test_a_customs_backlog_moves_quotes_within_a_day() -> None:
    backlog = T0 + timedelta(days=60)
    as_of = backlog + timedelta(hours=24)
    steady = dwells(3000, 48.0, T0, 61, as_of, seed=3)
    stuck = dwells(3000, 48.0, T0, 61, as_of, seed=3, stop_at=backlog)
    network = load_network()
    before = EtaEngine(model=fit(steady, network, as_of)).quote("Shenzhen", "Moscow", "standard_air", as_of)
    after = EtaEngine(model=fit(stuck, network, as_of)).quote("Shenzhen", "Moscow", "standard_air", as_of)
    assert after.p50 - before.p50 > timedelta(hours=8)


def test_old_observations_weigh_less_than_recent_ones() -> None:
    network = load_network()
    as_of = T0 + timedelta(days=90)
    old_slow = dwells(500, 150.0, T0, 30, as_of, seed=4)
    recent_fast = dwells(500, 30.0, T0 + timedelta(days=75), 10, as_of, seed=5)
    learned = fit(old_slow + recent_fast, network, as_of).dwell(MMPO)
    assert learned is not None and learned.dist.median < 50.0


def test_model_round_trips_through_json_with_version_and_count() -> None:
    as_of = T0 + timedelta(days=20)
    model = fit(dwells(200, 60.0, T0, 19, as_of), load_network(), as_of)
    restored = LegTimeModel.from_dict(json.loads(json.dumps(model.to_dict())))
    assert restored.to_dict() == model.to_dict()
    assert model.version.startswith("20260421T000000Z-") and model.observations == 200
    quote = EtaEngine(model=restored).quote("Shenzhen", "Moscow", "standard_air", as_of)
    assert quote.model_version == model.version and quote.learned_from == 200


def test_a_learned_span_between_distant_scans_replaces_the_legs_it_covers() -> None:
    network = load_network()
    as_of = T0 + timedelta(days=30)
    rng = random.Random(8)
    span = []
    for _ in range(300):
        begun = T0 + timedelta(hours=rng.uniform(0, 20 * 24))
        end = begun + timedelta(hours=math.exp(math.log(400) + 0.3 * rng.gauss(0, 1)))
        span.append(LegObservation("cn_shenzhen", MMPO, "leg", begun, end if end <= as_of else None))
    model = fit(span, network, as_of)
    learned = model.leg("cn_shenzhen", MMPO)
    assert learned is not None and learned.is_learned
    prior_quote = EtaEngine().quote("Shenzhen", "Moscow", "premium_air", as_of)
    learned_quote = EtaEngine(model=model).quote("Shenzhen", "Moscow", "premium_air", as_of)
    assert learned_quote.p50 - prior_quote.p50 > timedelta(days=10)
