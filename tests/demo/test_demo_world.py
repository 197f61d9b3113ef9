"""The demo world, built through ``silkway demo`` and read back through Silkway's public API."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, func, select, text
from werkzeug.serving import make_server

from tracking import models
from web.demo import state, truth
from web.demo.build import BuildReport, build
from web.demo.live import run_live
from web.demo.run import WorldRun, world_start
from web.demo.world import World

NOW = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
SMALL = {"days": 4, "seed": 11, "parcels_per_day": 12, "now": NOW}


def built(app: Flask, tmp_path: Path, **options: Any) -> BuildReport:
    return build(app, keys_path=tmp_path / "demo-keys.json", **{**SMALL, **options})


def truth_rows(app: Flask) -> list[dict[str, Any]]:
    with app.extensions["silkway.db"].engine.connect() as connection:
        query = select(truth.demo_truth).order_by(truth.demo_truth.c.tracking_number)
        return [dict(row._mapping) for row in connection.execute(query)]


def timelines(app: Flask) -> dict[str, list[tuple[str, str, str]]]:
    with app.app_context():
        session = app.extensions["silkway.db"].session()
        rows = session.execute(
            select(
                models.Identifier.number,
                models.ScanEvent.status,
                models.ScanEvent.substatus,
                models.ScanEvent.occurred_at,
            )
            .join(models.ScanEvent, models.ScanEvent.parcel_id == models.Identifier.parcel_id)
            .where(models.Identifier.number.like("LP%"))
        ).all()
        session.close()
    out: dict[str, list[tuple[str, str, str]]] = {}
    for number, status, substatus, at in rows:
        out.setdefault(number, []).append((status, substatus, at.isoformat()))
    return {number: sorted(events) for number, events in out.items()}


def wipe(app: Flask) -> None:
    engine = app.extensions["silkway.db"].engine
    tables = [truth.demo_truth, *reversed(models.Base.metadata.sorted_tables)]
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(delete(table))


def settled(seed: int, days: int, parcels_per_day: int) -> set[str]:
    """Parcels whose fate came more than a day before the end: their carriers have reported it by then."""
    start = world_start(NOW, days)
    run = WorldRun(World(seed=seed, start=start.date(), parcels_per_day=parcels_per_day))
    run.extend(NOW)
    return {
        number
        for number, journey in run.journeys.items()
        if journey.final_at is not None and journey.final_at < NOW - timedelta(days=1)
    }


def public(client: Any, number: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/parcels/{number}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_same_seed_builds_the_same_world(app: Flask, tmp_path: Path) -> None:
    built(app, tmp_path)
    first_truth = [{k: v for k, v in r.items() if k not in ("id", "updated_at")} for r in truth_rows(app)]
    first_timelines = timelines(app)
    wipe(app)
    built(app, tmp_path)
    second_truth = [{k: v for k, v in r.items() if k not in ("id", "updated_at")} for r in truth_rows(app)]
    assert first_truth and second_truth == first_truth
    assert timelines(app) == first_timelines


def test_every_event_sent_is_stored_once_and_only_deliberate_resends_are_duplicates(
    app: Flask, tmp_path: Path
) -> None:
    report = built(app, tmp_path, days=6)
    stats = report.stats
    with app.app_context():
        session = app.extensions["silkway.db"].session()
        stored = session.scalar(select(func.count()).select_from(models.ScanEvent))
        session.close()
    assert stats.errors == []
    assert stats.deliberate_duplicates > 0
    assert stats.duplicates == stats.deliberate_duplicates
    assert stored == stats.accepted == stats.events_sent - stats.deliberate_duplicates
    rows = truth_rows(app)
    assert sum(r["events_sent"] for r in rows) == stats.events_sent
    assert sum(r["duplicates_sent"] for r in rows) == stats.deliberate_duplicates


@pytest.mark.slow
def test_delivered_parcels_read_delivered_under_both_numbers(app: Flask, client: Any, tmp_path: Path) -> None:
    # A world long enough for parcels to arrive.
    built(app, tmp_path, days=40, parcels_per_day=3)
    done = settled(SMALL["seed"], 40, 3)
    delivered = [r for r in truth_rows(app) if r["fate"] == "delivered" and r["tracking_number"] in done]
    assert delivered
    for row in delivered:
        view = public(client, row["tracking_number"])
        assert view["status"] == "delivered", row
        assert row["last_mile_number"] in view["identifiers"]
        assert public(client, row["last_mile_number"])["status"] == "delivered"


@pytest.mark.slow
def test_returned_and_lost_parcels_never_read_delivered(app: Flask, client: Any, tmp_path: Path) -> None:
    built(app, tmp_path, days=60, parcels_per_day=6, seed=3)
    done = settled(3, 60, 6)
    rows = truth_rows(app)
    returned = [r for r in rows if r["fate"] == "returned" and r["tracking_number"] in done]
    lost = [r for r in rows if r["fate"] == "lost"]
    assert returned and lost
    for row in returned:
        view = public(client, row["tracking_number"])
        assert (view["status"], view["substatus"]) in {
            ("exception", "returning"),
            ("exception", "returned"),
        }, row
    for row in lost:
        assert public(client, row["tracking_number"])["status"] != "delivered"


def test_nothing_is_stamped_after_the_end_of_the_world(app: Flask, tmp_path: Path) -> None:
    built(app, tmp_path)
    with app.app_context():
        session = app.extensions["silkway.db"].session()
        latest = session.scalar(select(func.max(models.ScanEvent.occurred_at)))
        session.close()
    assert latest is not None and latest <= NOW


def test_keys_file_is_private_and_names_the_world(app: Flask, tmp_path: Path) -> None:
    built(app, tmp_path)
    path = tmp_path / "demo-keys.json"
    assert path.stat().st_mode & 0o777 == 0o600
    data = json.loads(path.read_text())
    assert data["seed"] == SMALL["seed"]
    assert set(data["carriers"]) == {"cainiao", "russian_post", "cdek"}


def test_demo_command_prints_the_summary_and_example_pages(app: Flask, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "demo",
            "--days",
            "10",
            "--seed",
            "5",
            "--parcels-per-day",
            "4",
            "--now",
            NOW.isoformat(),
            "--keys-file",
            str(tmp_path / "keys.json"),
        ]
    )
    assert result.exit_code == 0, result.output
    assert "parcels: " in result.output
    assert "events: sent=" in result.output
    assert "by status: " in result.output
    assert "/track/LP" in result.output


def test_demo_refuses_a_database_that_already_holds_a_world(app: Flask, tmp_path: Path) -> None:
    built(app, tmp_path)
    result = app.test_cli_runner().invoke(
        args=["demo", "--days", "2", "--now", NOW.isoformat(), "--keys-file", str(tmp_path / "k.json")]
    )
    assert result.exit_code != 0
    assert "already holds a demo world" in result.output


def test_building_the_same_world_again_changes_nothing(app: Flask, tmp_path: Path) -> None:
    report = built(app, tmp_path)
    result = app.test_cli_runner().invoke(
        args=[
            "demo",
            "--seed",
            str(SMALL["seed"]),
            "--now",
            NOW.isoformat(),
            "--keys-file",
            str(tmp_path / "k.json"),
        ]
    )
    assert result.exit_code == 0, result.output
    assert "nothing to do" in result.output
    assert len(truth_rows(app)) == report.parcels


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--days", "0"], "--days"),
        (["--parcels-per-day", "0"], "--parcels-per-day"),
        (["--now", "yesterday"], "--now"),
        (["--now", "2026-11-20T06:00:00"], "UTC offset"),
        (["--now", "2999-01-01T00:00:00+00:00"], "future"),
    ],
)
def test_bad_options_are_refused_with_a_message(app: Flask, args: list[str], message: str) -> None:
    result = app.test_cli_runner().invoke(args=["demo", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_live_mode_pushes_the_scans_reported_since_the_build_over_http(
    app: Flask, db_url: str, tmp_path: Path
) -> None:
    ended = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=12)
    keys = tmp_path / "demo-keys.json"
    report = build(app, keys_path=keys, days=3, seed=11, parcels_per_day=12, now=ended)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    stop = threading.Event()
    live = threading.Thread(
        target=run_live,
        args=(f"http://127.0.0.1:{server.port}", db_url, 11, stop),
        kwargs={"interval_s": 0.2, "keys_path": keys},
    )
    live.start()
    try:
        deadline = time.monotonic() + 60
        while state.load(keys).pushed_until <= ended and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop.set()
        live.join(timeout=30)
        server.shutdown()
    assert state.load(keys).pushed_until > ended
    with app.app_context():
        session = app.extensions["silkway.db"].session()
        stored = session.scalar(select(func.count()).select_from(models.ScanEvent))
        session.close()
    assert stored > report.stored_events
    rows = truth_rows(app)
    assert sum(r["events_sent"] for r in rows) > report.stats.events_sent
