"""EtaAnswer: a parcel's ETA as told at a moment, and the one JSON shape the APIs send of it."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest

from routing.eta import MILESTONE, WINDOW_CONFIDENCE, EtaAnswer, EtaEstimate
from routing.inference import Candidate

P10 = datetime(2026, 11, 20, 6, tzinfo=UTC)
ESTIMATE = EtaEstimate(
    P10,
    P10 + timedelta(days=1, hours=3),
    P10 + timedelta(days=4, hours=6),
    ["cn_shenzhen", "ru_moscow"],
    "standard_air",
    "20261101T000000Z-abc",
    1234,
    (Candidate("standard_air", "cn_shenzhen", "ru_moscow", 0.912345),),
    basis=MILESTONE,
)


def test_told_keeps_as_of_in_utc_with_the_window_confidence() -> None:
    moscow = timezone(timedelta(hours=3))
    answer = EtaAnswer.told(ESTIMATE, datetime(2026, 11, 15, 12, tzinfo=moscow))
    assert answer.as_of == datetime(2026, 11, 15, 9, tzinfo=UTC) and answer.as_of.tzinfo is UTC
    assert answer.confidence == WINDOW_CONFIDENCE == 0.8
    assert answer.estimate is ESTIMATE


def test_to_json_is_the_estimate_with_datetimes_then_as_of_and_confidence() -> None:
    as_of = datetime(2026, 11, 15, 9, tzinfo=UTC)
    body = EtaAnswer.told(ESTIMATE, as_of).to_json()
    assert list(body) == [*ESTIMATE.to_dict(), "as_of", "confidence"]
    assert body == {
        **ESTIMATE.to_dict(),
        "p10": ESTIMATE.p10,
        "p50": ESTIMATE.p50,
        "p90": ESTIMATE.p90,
        "as_of": as_of,
        "confidence": 0.8,
    }
    assert orjson.loads(orjson.dumps(body)) == {
        "p10": "2026-11-20T06:00:00+00:00",
        "p50": "2026-11-21T09:00:00+00:00",
        "p90": "2026-11-24T12:00:00+00:00",
        "route": ["cn_shenzhen", "ru_moscow"],
        "service": "standard_air",
        "model": {"version": "20261101T000000Z-abc", "learned_from": 1234, "learned_at": None},
        "spread_hours": 102.0,
        "candidates": [{"service": "standard_air", "destination": "ru_moscow", "probability": 0.9123}],
        "factors": [],
        "as_of": "2026-11-15T09:00:00+00:00",
        "confidence": 0.8,
    }


def test_an_answer_is_frozen_and_its_json_a_fresh_dict() -> None:
    answer = EtaAnswer.told(ESTIMATE, P10)
    with pytest.raises(dataclasses.FrozenInstanceError):
        answer.confidence = 0.5  # type: ignore[misc]
    body = answer.to_json()
    body["route"].append("ru_perm")
    body["extra"] = True
    assert answer.to_json()["route"] == ["cn_shenzhen", "ru_moscow"] and "extra" not in answer.to_json()
