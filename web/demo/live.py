"""Live mode: keep a built demo world going against a running server, over real HTTP.

Every few seconds the world moves on to the present: parcels in flight get their new scans, new orders
come in (registered by the merchants that use the API), and each carrier pushes what its feed would
have reported since the last round to ``{base_url}/api/v1/carriers/{carrier}/events`` with the keys
kept in ``instance/demo-keys.json``. The ground truth table is kept up to date as it goes.
"""

from __future__ import annotations

import logging
import random
import threading
import urllib.error
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from tracking.db import make_engine
from web.demo import state, truth
from web.demo.emit.feed import Feed, FeedStats, HttpTransport
from web.demo.journeys import Journey
from web.demo.merchants import MerchantApi
from web.demo.run import WorldRun
from web.demo.world import World

log = logging.getLogger("silkway.demo.live")
# Parcels ordered longer ago than this have long finished; live mode does not regenerate them.
HISTORY = timedelta(days=200)


def run_live(
    base_url: str,
    database_url: str,
    seed: int,
    stop: threading.Event,
    interval_s: float = 3.0,
    keys_path: Path = state.DEFAULT_PATH,
    started: threading.Event | None = None,
) -> None:
    """Advance the demo world every ``interval_s`` seconds until ``stop`` is set; ``started`` is set once
    the first round has ended (delivered or not), so serve-demo prints its banner after that round's logs."""
    demo = state.load(keys_path)
    if demo.seed != seed:
        log.warning("the demo world was built with seed %s, not %s; continuing that world", demo.seed, seed)
    world = World(seed=demo.seed, start=demo.start.date(), parcels_per_day=demo.parcels_per_day)
    run = WorldRun(world, first_day=(demo.pushed_until - HISTORY).date())
    run.extend(demo.pushed_until, skip_before=demo.pushed_until)
    run.ordered(demo.pushed_until)
    transport = HttpTransport(base_url)
    feed = Feed(world, transport, demo.carriers, random.Random())
    merchants = MerchantApi(world, transport, demo.merchants, routes=None)
    engine = make_engine(database_url)
    log.info("demo world live from %s (seed %s)", demo.pushed_until.isoformat(), demo.seed)
    try:
        while not stop.is_set():
            now = datetime.now(UTC) - timedelta(seconds=1)
            try:
                step(run, feed, merchants, now)
            except (urllib.error.URLError, OSError) as exc:
                log.warning("demo live: server unreachable (%s); retrying next round", exc)
            else:
                _record_truth(engine, _truth_rows(run, feed.stats, now, demo.seed), stop)
                demo.pushed_until = now
                state.save(demo, keys_path)
            if started is not None:
                started.set()
            stop.wait(interval_s)
    finally:
        if started is not None:
            started.set()
        engine.dispose()


def _record_truth(engine: Engine, rows: list[dict[str, object]], stop: threading.Event) -> None:
    """Write this round's ground truth; a failed write is retried a few times, never fatal to live mode.

    SQLite's busy timeout already waits for the other writers (their transactions are short); this is
    for a database that is away, or a lock held past that timeout, which the warnings then show.
    """
    for attempt in range(5):
        try:
            with engine.begin() as connection:
                truth.create(connection)  # the demo's own table (migration 0006 drops an empty one)
                truth.apply(connection, rows)
            return
        except OperationalError as exc:
            log.warning("demo live: could not record the truth (%s); retrying", type(exc).__name__)
            if stop.wait(1 + attempt):
                return
    log.warning("demo live: gave up recording this round's truth; the scans were delivered")


def step(run: WorldRun, feed: Feed, merchants: MerchantApi, now: datetime) -> None:
    """One round: new orders, then every scan reported since the last round."""
    run.extend(now)
    due = run.due(now)
    fresh = run.ordered(now)
    feed.stats = FeedStats()
    try:
        merchants.register(fresh)
        feed.send(due, now)
    except (urllib.error.URLError, OSError):
        run.requeue(due, fresh)
        raise
    feed.stats.per_parcel.update({j.plan.number: feed.stats.per_parcel[j.plan.number] for j in fresh})


def _truth_rows(run: WorldRun, stats: FeedStats, now: datetime, seed: int) -> list[dict[str, object]]:
    rows = []
    for number, (sent, duplicates) in stats.per_parcel.items():
        journey: Journey = run.journeys[number]
        rows.append(truth.row(journey, now, seed, sent, duplicates))
    return rows
