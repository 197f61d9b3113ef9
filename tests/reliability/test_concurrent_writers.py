"""Four processes ingesting overlapping batches at once (the probe of issue 14's concurrent SQLite writers)
lose nothing, store nothing twice and never answer or log "database is locked"."""

from __future__ import annotations

import multiprocessing
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select

from tests.reliability.support import canonical_batch, carrier_key, push_batches
from tracking import models
from tracking.db import make_engine
from tracking.statuses import Status
from tracking.timeline import StatusState, derive

WRITERS = 4
PARCELS = 40
BATCH = 12
STEPS = [
    ("info_received", "label_created", "Shenzhen", "CN"),
    ("in_transit", "picked_up", "Shenzhen", "CN"),
    ("in_transit", "in_sorting", "Shenzhen", "CN"),
    ("in_transit", "departed", "Shenzhen", "CN"),
    ("in_transit", "export_customs", "Hong Kong", "HK"),
    ("in_transit", "line_haul", "Hong Kong", "HK"),
    ("in_transit", "handed_over", "Moscow", "RU"),  # the last-mile number, linked to the first-mile one
    ("in_transit", "customs_cleared", "Moscow", "RU"),
    ("out_for_delivery", "courier", "Kazan", "RU"),
    ("delivered", "recipient", "Kazan", "RU"),
]


def journey(k: int) -> list[dict[str, Any]]:
    """Parcel k's events; the odd parcels stop in transit. Last-mile events before the link come too."""
    first, last = f"LPREL{k:09d}", f"RPREL{k:09d}"
    at = datetime(2026, 10, 1, tzinfo=UTC) + timedelta(hours=7 * k)
    steps = STEPS if k % 2 == 0 else STEPS[:8]
    events = []
    for i, (status, substatus, name, country) in enumerate(steps):
        at += timedelta(hours=5 + (k * 3 + i) % 20)
        event: dict[str, Any] = {
            "tracking_number": first if i < 6 else last,
            "status": status,
            "substatus": substatus,
            "occurred_at": at.isoformat(),
            "location": {"name": name, "country": country},
            "description": f"step {i}",
        }
        if i == 6:
            event["linked_numbers"] = [first]
        events.append(event)
    return events


def writer_batches(everything: list[dict[str, Any]], writer: int) -> list[bytes]:
    """This writer's share: every event it owns plus about half the others, reworded, shuffled, batched."""
    rng = random.Random(writer)
    mine = []
    for i, event in enumerate(everything):
        if i % WRITERS == writer or rng.random() < 0.5:
            mine.append({**event, "description": f"{event['description']} (writer {writer})"})
    rng.shuffle(mine)
    return [canonical_batch(mine[i : i + BATCH]) for i in range(0, len(mine), BATCH)]


@pytest.mark.slow
def test_concurrent_writers_store_every_distinct_event_exactly_once(
    db_url, client, tmp_path, record_property
):
    key = carrier_key(db_url)
    journeys = {k: journey(k) for k in range(PARCELS)}
    everything = [event for events in journeys.values() for event in events]
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(WRITERS)
    results = ctx.Queue()
    logs = [tmp_path / f"writer-{w}.log" for w in range(WRITERS)]
    batches = [writer_batches(everything, w) for w in range(WRITERS)]
    procs = [
        ctx.Process(target=push_batches, args=(db_url, key, batches[w], barrier, results, w, str(logs[w])))
        for w in range(WRITERS)
    ]
    for proc in procs:
        proc.start()
    answers = dict(results.get(timeout=240) for _ in procs)
    for proc in procs:
        proc.join(timeout=30)
        assert proc.exitcode == 0
    failed = [(w, s) for w, statuses in answers.items() for s in statuses if s[0] != 200]
    locked = sum(text.count("database is locked") for statuses in answers.values() for _, text in statuses)
    logged = [
        line
        for log in logs
        for line in log.read_text().splitlines()
        if "database is locked" in line or "database unavailable" in line
    ]
    figures = {
        "database": db_url.split(":", 1)[0].split("+", 1)[0],
        "writer processes": WRITERS,
        "batches": sum(len(b) for b in batches),
        "events sent": sum(len(orjson.loads(body)["events"]) for b in batches for body in b),
        "distinct events": len(everything),
        "answers not 200": len(failed),
        '"database is locked" in answers': locked,
        "database warnings logged": len(logged),
    }
    record_property("probe:concurrent writers", orjson.dumps(figures).decode())
    assert not failed, failed
    assert (locked, logged) == (0, []), figures

    for k, events in journeys.items():
        view = client.get(f"/api/v1/parcels/LPREL{k:09d}").get_json()
        assert sorted(view["identifiers"]) == [f"LPREL{k:09d}", f"RPREL{k:09d}"]
        assert client.get(f"/api/v1/parcels/RPREL{k:09d}").get_json()["events"] == view["events"]
        assert len(view["events"]) == len(events)
        expected = derive(
            [
                StatusState(Status(e["status"]), e["substatus"], datetime.fromisoformat(e["occurred_at"]))
                for e in events
            ]
        )
        assert (view["status"], view["substatus"]) == (expected.status.value, expected.substatus)
    engine = make_engine(db_url)
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(models.ScanEvent)).scalar_one()
        parcels = conn.execute(select(func.count()).select_from(models.Parcel)).scalar_one()
    engine.dispose()
    assert (stored, parcels) == (len(everything), PARCELS), figures
