"""Backtest scoring: checkpoints, metrics, baselines and the printed report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from routing.backtest import (
    BacktestRow,
    Flat,
    HeldOut,
    checkpoint_time,
    run_backtest,
    score,
    service_median_predictor,
)
from routing.errors import NoRoute
from routing.services import default_router
from routing.tracks import ParcelTrack, TrackScan
from tests.support.synthetic import World, simulate_many

T0 = datetime(2026, 3, 2, tzinfo=UTC)


def track(*scans: tuple[str, str, str, int]) -> ParcelTrack:
    return ParcelTrack(
        ("RX1",), "standard_air", None, None,
        [TrackScan(p, c, "in_transit", s, T0 + timedelta(hours=h)) for p, c, s, h in scans],
    )


def test_checkpoints_are_first_scan_leaving_china_and_leaving_import() -> None:
    t = track(
        ("cn_shenzhen", "CN", "picked_up", 0),
        ("cn_air_szx", "CN", "departed", 30),
        ("ru_air_svo", "RU", "arrived", 50),
        ("ru_mmpo_sheremetyevo", "RU", "departed", 120),
    )
    truth = T0 + timedelta(hours=200)
    assert checkpoint_time(t, "first_scan", truth) == T0
    assert checkpoint_time(t, "after_export", truth) == T0 + timedelta(hours=50)
    assert checkpoint_time(t, "after_import", truth) == T0 + timedelta(hours=120)
    assert checkpoint_time(t, "after_import", T0 + timedelta(hours=100)) is None


def test_score_reports_mae_of_p50_and_interval_coverage() -> None:
    t = track(("cn_shenzhen", "CN", "picked_up", 0))
    parcels = [HeldOut(t, T0 + timedelta(hours=100)), HeldOut(t, T0 + timedelta(hours=160))]

    def predict(_: ParcelTrack, as_of: datetime) -> Flat:
        return Flat(as_of + timedelta(hours=90), as_of + timedelta(hours=120), as_of + timedelta(hours=150))

    (row,) = score(parcels, {"fixed": predict}, ["first_scan"])
    # Pinball loss of p10/p50/p90: (1 + 10 + 5) / 3 h for the arrival at 100 h, (7 + 20 + 9) / 3 h at 160 h.
    pinball = ((1 + 10 + 5) / 3 + (7 + 20 + 9) / 3) / 2
    assert row == BacktestRow("fixed", "first_scan", 2, 30.0, 0.5, 60.0, 0, 60.0, pinball)


def test_a_predictor_that_cannot_answer_is_counted_not_scored() -> None:
    t = track(("cn_shenzhen", "CN", "picked_up", 0))
    parcels = [HeldOut(t, T0 + timedelta(hours=100)), HeldOut(t, T0 + timedelta(hours=160))]
    calls = []

    def predict(_: ParcelTrack, as_of: datetime) -> Flat:
        calls.append(as_of)
        if len(calls) == 1:
            raise NoRoute("premium_air", "ru_kazan", "ru_samara")
        return Flat(as_of + timedelta(hours=90), as_of + timedelta(hours=160), as_of + timedelta(hours=170))

    (row,) = score(parcels, {"picky": predict}, ["first_scan"])
    assert (row.parcels, row.unanswered, row.mae_hours) == (1, 1, 0.0)


def test_service_median_baseline_uses_training_durations() -> None:
    first = track(("cn_shenzhen", "CN", "picked_up", 0))
    train = [HeldOut(first, T0 + timedelta(hours=h)) for h in (100, 200, 300)]
    predict = service_median_predictor(train)
    guess = predict(track(("cn_shenzhen", "CN", "picked_up", 0)), T0)
    assert guess.p50 == T0 + timedelta(hours=200)


def test_learning_beats_the_network_prior_when_the_prior_is_wrong() -> None:
    router = default_router()
    world = World({"ru_mmpo_sheremetyevo": 2.0, "ru_asc_podolsk": 1.5, "cn_shenzhen": 1.5})
    lanes = [("standard_air", "cn_shenzhen", "ru_moscow"), ("premium_air", "cn_hangzhou", "ru_kazan")]
    parcels = simulate_many(router, 500, T0, 50, seed=11, world=world, lanes=lanes)
    held = [HeldOut(p.track, p.delivered_at) for p in parcels]
    report = run_backtest(held, T0 + timedelta(days=40), router.network)
    mae = {(r.predictor, r.checkpoint): r.mae_hours for r in report.rows}
    assert mae["learned", "first_scan"] < mae["network prior", "first_scan"]
    assert mae["learned", "after_import"] < mae["service median", "after_import"]
    text = report.format()
    assert "learned" in text and "network prior" in text and "service median" in text
    assert report.train_parcels + report.test_parcels == 500
