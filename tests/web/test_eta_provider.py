"""The pages' ETA provider seam: an EtaAnswer passes as it is; a stand-in's mapping is read once."""

from __future__ import annotations

from datetime import UTC, datetime

from routing.eta import EtaAnswer, EtaEstimate
from web.pages.eta_provider import provided_eta

P10 = datetime(2026, 11, 28, 6, tzinfo=UTC)
P50 = datetime(2026, 11, 30, 6, tzinfo=UTC)
P90 = datetime(2026, 12, 3, 6, tzinfo=UTC)


def test_an_answer_passes_unchanged_and_none_stays_none() -> None:
    answer = EtaAnswer.told(EtaEstimate(P10, P10, P10, ["ru_moscow"], "x", "v", 1), P10)
    assert provided_eta(answer) is answer
    assert provided_eta(None) is None


def test_a_mapping_gives_its_window_route_and_confidence() -> None:
    found = provided_eta({"p10": P10, "p50": P50, "p90": "2026-12-03T06:00:00+00:00", "route": ["ru_moscow"],
                          "model": "test", "confidence": 0.9})
    assert found is not None
    estimate = found.estimate
    assert (estimate.p10, estimate.p50, estimate.p90) == (P10, P50, P90)
    assert estimate.route == ["ru_moscow"] and found.confidence == 0.9


def test_a_mapping_without_p50_or_confidence_falls_back_to_p10_and_80_percent() -> None:
    found = provided_eta({"p10": P10, "p90": P50, "confidence": 7})
    assert found is not None
    assert found.estimate.p50 == P10 and found.estimate.route == [] and found.confidence == 0.8


def test_a_mapping_without_a_window_is_no_eta() -> None:
    assert provided_eta({"p10": P10}) is None
    assert provided_eta({"p10": None, "p90": P90}) is None
    assert provided_eta({"p10": "not a time", "p90": P90}) is None
