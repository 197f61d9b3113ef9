"""Gunicorn workers killed with SIGKILL in the middle of batches (10 kills, as the probe of issue 14 did)
lose no acknowledged event and leave no partial batch: acknowledged = stored, on PostgreSQL and SQLite."""

from __future__ import annotations

import http.client
import os
import random
import signal
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import text

from tests.reliability.support import canonical_batch, carrier_key, gunicorn
from tracking.db import make_engine

KILLS = 10
# Batch 0 is answered (its duration times the kills); then two kill attempts and one answered batch in
# turn, until KILLS kills have landed inside a request (an attempt whose batch was answered first is
# not one), within MAX_BATCHES.
MAX_BATCHES = 3 * KILLS + 10
PARCELS_PER_BATCH = 100
EVENTS_PER_PARCEL = 10
STEPS = [
    ("info_received", "label_created"),
    ("in_transit", "picked_up"),
    ("in_transit", "in_sorting"),
    ("in_transit", "departed"),
    ("in_transit", "export_customs"),
    ("in_transit", "line_haul"),
    ("in_transit", "arrived_destination_country"),
    ("in_transit", "customs_cleared"),
    ("out_for_delivery", "courier"),
    ("delivered", "recipient"),
]


def batch_events(batch: int) -> list[dict[str, Any]]:
    """A batch whose numbers all start with its own marker ``KB<batch>``."""
    start = datetime(2026, 9, 1, tzinfo=UTC)
    events = []
    for p in range(PARCELS_PER_BATCH):
        at = start + timedelta(hours=p)
        for i in range(EVENTS_PER_PARCEL):
            status, substatus = STEPS[i]
            events.append(
                {
                    "tracking_number": f"KB{batch:03d}P{p:06d}",
                    "status": status,
                    "substatus": substatus,
                    "occurred_at": (at + timedelta(hours=9 * i)).isoformat(),
                    "location": {
                        "name": "Moscow" if i > 5 else "Shenzhen",
                        "country": "RU" if i > 5 else "CN",
                    },
                    "description": f"scan {i}",
                }
            )
    return events


class Sender(threading.Thread):
    """POSTs the batches one after another; records each answer (None when the connection died)."""

    def __init__(self, port: int, key: str, bodies: list[bytes], go: list[threading.Event]) -> None:
        super().__init__(daemon=True)
        self.port, self.key, self.bodies, self.go = port, key, bodies, go
        self.answers: dict[int, tuple[int, dict[str, Any]] | None] = {}
        self.in_flight = [threading.Event() for _ in bodies]
        self.durations: dict[int, float] = {}
        self.done = threading.Event()

    def run(self) -> None:
        for index, body in enumerate(self.bodies):
            self.go[index].wait(timeout=120)
            if self.done.is_set():
                return
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            started = time.perf_counter()
            try:
                conn.request(
                    "POST",
                    "/api/v1/carriers/acme_post/events",
                    body=body,
                    headers={"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"},
                )
                self.in_flight[index].set()
                resp = conn.getresponse()
                self.answers[index] = (resp.status, orjson.loads(resp.read() or b"{}"))
            except (OSError, http.client.HTTPException):
                self.answers[index] = None
            finally:
                self.in_flight[index].set()
                self.durations[index] = time.perf_counter() - started
                conn.close()


def stored_per_batch(url: str) -> dict[int, int]:
    """How many events each batch marker has in the database."""
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT substr(tracking_number, 3, 3), count(*) FROM events GROUP BY 1")
        ).all()
    engine.dispose()
    return {int(marker): int(count) for marker, count in rows}


@pytest.mark.slow
def test_sigkilled_workers_lose_no_acknowledged_event_and_leave_no_partial_batch(db_url, record_property):
    key = carrier_key(db_url)
    bodies = [canonical_batch(batch_events(b)) for b in range(MAX_BATCHES)]
    size = PARCELS_PER_BATCH * EVENTS_PER_PARCEL
    rng = random.Random(7)
    killed: list[int] = []
    with gunicorn(db_url, workers=1) as server:
        go = [threading.Event() for _ in bodies]
        sender = Sender(server.port, key, bodies, go)
        sender.start()
        landed = 0
        for index in range(MAX_BATCHES):
            if landed == KILLS and index % 3 == 1:  # a batch answered after the last kill, then stop
                break
            workers = server.wait_for_workers(1, exclude=set(killed))
            go[index].set()
            if index % 3 != 0 and landed < KILLS:
                sender.in_flight[index].wait(timeout=60)
                answered = sorted(d for i, d in sender.durations.items() if sender.answers.get(i))
                time.sleep(answered[len(answered) // 2] * rng.uniform(0.2, 0.5))  # inside the batch's work
                if index not in sender.answers:
                    os.kill(workers[0], signal.SIGKILL)
                    killed.append(workers[0])
            deadline = time.monotonic() + 120
            while index not in sender.answers and time.monotonic() < deadline:
                time.sleep(0.02)
            landed += sender.answers.get(index, ()) is None
        sender.done.set()
        for event in go:
            event.set()
        sender.join(timeout=120)
        assert not sender.is_alive()
    stored = stored_per_batch(db_url)
    unanswered = [i for i, answer in sender.answers.items() if answer is None]
    acknowledged = [i for i, answer in sender.answers.items() if answer is not None]
    figures = {
        "database": db_url.split(":", 1)[0].split("+", 1)[0],
        "kills": len(killed),
        "killed mid-request": len(unanswered),
        "batches acknowledged": len(acknowledged),
        "events acknowledged": size * len(acknowledged),
        "events stored of acknowledged batches": sum(stored.get(i, 0) for i in acknowledged),
        "events stored of killed batches": sum(stored.get(i, 0) for i in unanswered),
    }
    record_property("probe:worker kill", orjson.dumps(figures).decode())
    assert len(unanswered) == KILLS, f"not every kill landed inside a request: {figures}"
    for index, answer in sender.answers.items():
        if answer is None:
            assert stored.get(index, 0) in (0, size), f"batch {index} was half stored: {stored.get(index)}"
        else:
            status, body = answer
            assert status == 200, body
            assert body["accepted"] + body["duplicates"] == size
            assert stored.get(index, 0) == size, f"acknowledged batch {index} lost events"
