"""Hours to arrival by milestone: censored Kaplan–Meier, conditioning, back-off, numbers known in time."""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from routing.eta import EtaEngine
from routing.learning import learn
from routing.model import LegTimeModel
from routing.network import load_network
from routing.remaining import RemainingModel, arrival_time, fit_remaining, keys, milestone
from routing.tracks import ParcelTrack, TrackScan

T0 = datetime(2026, 5, 4, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def parcel(start: float, total: float | None, *, service: str | None = "standard_air",
           numbers: tuple[str, ...] = ("LP00000000000001",), place: str | None = None) -> ParcelTrack:
    """A parcel accepted in China at ``start`` that arrives ``total`` hours later (None: not yet)."""
    scans = [TrackScan(place, "CN", "in_transit", "picked_up", at(start), numbers[0])]
    if total is not None:
        scans.append(TrackScan("ru_moscow", "RU", "available_for_pickup", "post_office", at(start + total)))
        scans.append(TrackScan("ru_moscow", "RU", "delivered", "recipient", at(start + total + 50)))
    return ParcelTrack(numbers, service, None, "ru_moscow", tuple(scans))


def median_hours(model: RemainingModel, track: ParcelTrack, as_of: datetime) -> float:
    quantiles = model.quantiles(track, as_of)
    assert quantiles is not None
    return (quantiles[1] - track.scans[0].at).total_seconds() / 3600


def test_arrival_is_readiness_for_collection_when_it_comes_before_delivery() -> None:
    track = parcel(0, 100)
    assert arrival_time(track) == at(100)
    assert arrival_time(track, until=at(99)) is None


def test_parcels_still_under_way_count_as_censored_not_as_finished() -> None:
    # Half the parcels take 100 h, half 400 h, started over the last 480 h: most slow ones are still going.
    now = 24 * 60.0
    tracks = []
    for i in range(400):
        start = now - 480 + i * 1.2
        total = 100.0 if i % 2 else 400.0
        tracks.append(parcel(start, total if start + total <= now else None))
    finished = sum(1 for t in tracks if len(t.scans) > 1)
    fast = sum(1 for t in tracks if len(t.scans) > 1 and t.scans[1].at - t.scans[0].at < timedelta(hours=200))
    assert fast / finished > 0.8  # what counting only the finished parcels would say
    model = fit_remaining(tracks, at(now), half_life_days=1000)
    curve = model.curves["standard_air/ru_moscow/CN|in_transit|picked_up|-"]
    assert 0.4 <= curve.cdf(200) <= 0.6


def test_time_already_spent_moves_the_answer_past_the_fast_parcels() -> None:
    tracks = [parcel(i * 3.0, 100.0 if i % 2 else 300.0) for i in range(400)]
    as_of = at(2000)
    model = fit_remaining(tracks, as_of, half_life_days=1000)
    waiting = parcel(1800, None)
    assert median_hours(model, waiting, at(1800)) < 301
    assert median_hours(model, waiting, at(1800 + 150)) > 290  # not a fast one: it is past 100 h


def test_a_sparse_key_backs_off_to_a_coarser_one() -> None:
    tracks = [parcel(i * 3.0, 100.0, service="standard_air") for i in range(300)]
    tracks += [parcel(i * 3.0, 500.0, service="premium_air") for i in range(5)]  # too few to trust
    model = fit_remaining(tracks, at(1500), half_life_days=1000)
    rare = parcel(1400, None, service="premium_air")
    assert "premium_air/ru_moscow/CN|in_transit|picked_up|-" not in model.curves
    assert abs(median_hours(model, rare, at(1400)) - 100) < 5


def test_the_service_class_of_a_number_counts_only_from_when_it_was_scanned() -> None:
    late = "RA123456785CN"
    scans = (
        TrackScan(None, "CN", "in_transit", "picked_up", at(0), "LP00000000000001"),
        TrackScan("ru_moscow", "RU", "in_transit", "arrived", at(200), late),
    )
    track = ParcelTrack(("LP00000000000001", late), None, None, None, scans)
    assert track.numbers_until(at(10)) == ("LP00000000000001",)
    assert keys(track, scans[0], at(0))[3] == f"?/{milestone(scans[0])}"
    assert keys(track, scans[1], at(0))[3] == f"class:R/{milestone(scans[1])}"


def test_model_with_remaining_curves_round_trips_and_answers_in_flight() -> None:
    rng = random.Random(3)
    tracks = [parcel(i * 5.0, rng.uniform(150, 250)) for i in range(300)]
    as_of = at(1600)
    model = learn(tracks, load_network(), as_of)
    restored = LegTimeModel.from_dict(json.loads(json.dumps(model.to_dict())))
    assert restored.to_dict() == model.to_dict() and restored.remaining is not None
    estimate = EtaEngine(model=restored).in_flight(parcel(1590, None), as_of)
    assert estimate.model_version == model.version
    assert timedelta(hours=140) < estimate.p50 - at(1590) < timedelta(hours=260)
    arrived = EtaEngine(model=restored).in_flight(parcel(1000, 100), as_of)
    assert arrived.p10 == arrived.p50 == arrived.p90 == at(1100)


@settings(max_examples=40, deadline=None)
@given(
    totals=st.lists(st.floats(1, 2000), min_size=25, max_size=120),
    running=st.lists(st.floats(0, 2000), max_size=40),
    elapsed=st.floats(0, 3000),
)
def test_quantiles_are_ordered_and_never_in_the_past(
    totals: list[float], running: list[float], elapsed: float
) -> None:
    as_of = at(5000)
    tracks = [parcel(4000 - t, t) for t in totals] + [parcel(5000 - r, None) for r in running]
    model = fit_remaining(tracks, as_of, half_life_days=1000)
    asked = at(5000 + elapsed)
    found = model.quantiles(parcel(5000, None), asked)
    if found is not None:
        p10, p50, p90 = found
        assert asked <= p10 <= p50 <= p90


def customs_parcels(backlog_from: float | None, as_of: float, seed: int = 5) -> list[ParcelTrack]:
    """Parcels reaching customs every 30 min for 60 days; they leave after ~24 h and arrive 72 h later,
    except that from ``backlog_from`` on nobody leaves customs."""
    rng = random.Random(seed)
    tracks = []
    for i in range(int(as_of / 0.5)):
        start = i * 0.5
        wait = rng.lognormvariate(math.log(24), 0.3)
        held = backlog_from is not None and start + wait > backlog_from
        scans = [TrackScan("ru_mmpo_vnukovo", "RU", "in_transit", "customs_processing", at(start))]
        if not held:
            scans.append(TrackScan("ru_mmpo_vnukovo", "RU", "in_transit", "departed", at(start + wait)))
            scans.append(TrackScan("ru_moscow", "RU", "available_for_pickup", "post_office",
                                   at(start + wait + rng.uniform(60, 84))))
        tracks.append(ParcelTrack((f"LP{i:014d}",), "standard_air", None, "ru_moscow",
                                  tuple(s for s in scans if s.at <= at(as_of))))
    return tracks


def test_a_customs_backlog_moves_in_flight_answers_within_a_day() -> None:
    backlog, now = 24 * 60.0, 24 * 61.0  # customs stop releasing; a day later
    entered = TrackScan("ru_mmpo_vnukovo", "RU", "in_transit", "customs_processing", at(now - 20))
    waiting = ParcelTrack(("LP99",), "standard_air", None, "ru_moscow", (entered,))
    steady = fit_remaining(customs_parcels(None, now), at(now))
    stuck = fit_remaining(customs_parcels(backlog, now), at(now))
    before, after = steady.quantiles(waiting, at(now)), stuck.quantiles(waiting, at(now))
    assert before is not None and after is not None
    assert after[1] - before[1] > timedelta(hours=6)  # nobody has left for a day: expect a longer wait
    assert not steady.slowdowns  # steady traffic shows no slowdown
    restored = RemainingModel.from_dict(json.loads(json.dumps(stuck.to_dict())))
    again = restored.quantiles(waiting, at(now)) or []
    assert all(abs(a - b) < timedelta(minutes=1) for a, b in zip(again, after, strict=True))


def test_russia_to_china_parcels_have_milestone_keys_of_their_own() -> None:
    from routing.remaining import direction, keys
    from routing.tracks import ParcelTrack, TrackScan

    t0 = datetime(2026, 10, 1, tzinfo=UTC)
    moscow = TrackScan("ru_moscow", "RU", "in_transit", "departed", t0 + timedelta(days=2), None)
    to_china = ParcelTrack(("EE123456785RU",), None, None, None, (
        TrackScan("ru_yekaterinburg", "RU", "in_transit", "picked_up", t0, None), moscow))
    to_russia = ParcelTrack(("RX747628194CN",), None, None, None, (
        TrackScan("cn_shenzhen", "CN", "in_transit", "departed", t0, None), moscow))
    assert direction(to_china, moscow.at) == "RU>CN" and direction(to_russia, moscow.at) == ""
    assert all(k.startswith("RU>CN:") for k in keys(to_china, moscow, t0))
    assert not any(k.startswith("RU>CN:") for k in keys(to_russia, moscow, t0))
    # Without a Russian number: known from a Chinese scan after the Russian ones, not before.
    shanghai = TrackScan("cn_imx_shanghai", "CN", "in_transit", "customs_processing", t0 + timedelta(days=6),
                         None)
    unnumbered = ParcelTrack(("LP00123456789012",), None, None, None, (moscow, shanghai))
    assert direction(unnumbered, moscow.at) == "" and direction(unnumbered, shanghai.at) == "RU>CN"
