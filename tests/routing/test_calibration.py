"""Split-conformal calibration of [p10, p90] per checkpoint (routing/calibration.py)."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime, timedelta

from routing.backtest import Flat
from routing.calibration import (
    MIN_PARCELS,
    calibrated,
    calibration_window,
    conformal_correction,
    fit_calibration,
)
from routing.eta import EtaEngine
from routing.model import LegTimeModel
from routing.tracks import ParcelTrack, TrackScan

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def test_the_correction_is_the_conformal_rank_of_the_scores() -> None:
    assert conformal_correction([float(i) for i in range(100)]) == 80.0  # the ceil(101 * 0.8) = 81st
    assert conformal_correction([1.0] * (MIN_PARCELS - 1)) is None


def test_a_correction_widens_or_narrows_the_window_but_never_before_now_nor_across_p50() -> None:
    p10, p50, p90 = NOW + timedelta(hours=10), NOW + timedelta(hours=40), NOW + timedelta(hours=80)
    assert calibrated(p10, p50, p90, NOW, 5.0) == (NOW + timedelta(hours=5), NOW + timedelta(hours=85))
    assert calibrated(p10, p50, p90, NOW, 20.0) == (NOW, NOW + timedelta(hours=100))
    assert calibrated(p10, p50, p90, NOW, -50.0) == (p50, p50)


def test_calibration_makes_too_narrow_windows_hold_eight_in_ten_recent_arrivals() -> None:
    rng = random.Random(3)
    start, end = calibration_window("first_scan", NOW)
    tracks, truth = [], {}
    for i in range(400):
        scanned = start + (end - start) * rng.random()
        arrival = scanned + timedelta(hours=rng.gauss(200, 60))
        number = f"LP{i:014d}"
        truth[number] = arrival
        tracks.append(ParcelTrack((number,), None, None, None, (
            TrackScan("cn_shenzhen", "CN", "in_transit", "picked_up", scanned, number),
            TrackScan("ru_moscow", "RU", "delivered", "recipient", arrival, number))))

    def narrow(track: ParcelTrack, as_of: datetime) -> Flat:  # the right centre, a window far too narrow
        return Flat(as_of + timedelta(hours=190), as_of + timedelta(hours=200), as_of + timedelta(hours=210))

    corrections = fit_calibration(tracks, NOW, narrow)  # type: ignore[arg-type]
    assert set(corrections) == {"first_scan"} and corrections["first_scan"] > 40
    held = 0
    for track in tracks:
        guess = narrow(track, track.scans[0].at)
        low, high = calibrated(guess.p10, guess.p50, guess.p90, track.scans[0].at, corrections["first_scan"])
        held += low <= truth[track.numbers[0]] <= high
    assert 0.78 <= held / len(tracks) <= 0.84


def test_the_engine_applies_the_models_correction_at_the_parcels_checkpoint(engine: EtaEngine) -> None:
    track = ParcelTrack(("RX747628194CN",), "standard_air", "cn_shenzhen", "ru_moscow",
                        (TrackScan("cn_shenzhen", "CN", "in_transit", "picked_up", NOW),))
    as_of = NOW + timedelta(hours=2)
    plain = engine.in_flight(track, as_of)
    model = dataclasses.replace(LegTimeModel.prior(), calibration={"first_scan": 30.0, "after_import": -5.0})
    wider = EtaEngine(model=model).in_flight(track, as_of)
    assert wider.p50 == plain.p50
    assert wider.p10 == max(plain.p10 - timedelta(hours=30), as_of)
    assert wider.p90 == plain.p90 + timedelta(hours=30)
