"""Building a demo world into the configured database through Silkway's real HTTP interface.

The carriers' keys are created the way ``silkway keys create`` does; everything else goes through the
WSGI app with the Flask test client, one simulated day at a time: merchants register their new parcels
(``POST /api/v1/parcels``) and ask for quotes (``POST /api/v1/eta/quotes``) where those endpoints exist,
and each carrier pushes its native payloads to ``POST /api/v1/carriers/{carrier}/events``.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carriers import ADAPTERS, BUILT_IN_FORMATS
from tracking import models, schema
from tracking.accounts import create_key, ensure_carrier, ensure_merchant
from web.db import commit_unit, database
from web.demo import state, truth
from web.demo.emit.feed import ClientTransport, Feed, FeedStats
from web.demo.journeys import CDEK, CN, RP, Journey
from web.demo.merchants import MerchantApi
from web.demo.run import WorldRun, world_start
from web.demo.world import World

CARRIERS = (CN, RP, CDEK)


class DemoError(Exception):
    """The demo cannot be built as asked (a clear message for the command line)."""


class AlreadyBuilt(Exception):
    """The database already holds the world of this seed: nothing to do (live mode continues it)."""


@dataclass(slots=True)
class BuildReport:
    """What a build did and how long it took."""

    seed: int
    now: datetime
    parcels: int = 0
    stats: FeedStats = field(default_factory=FeedStats)
    registered: int = 0
    quotes: int = 0
    missing_endpoints: list[str] = field(default_factory=list)
    fates: Counter[str] = field(default_factory=Counter)
    statuses: dict[str, int] = field(default_factory=dict)
    stored_events: int = 0
    examples: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def build(
    app: Flask,
    *,
    days: int,
    seed: int,
    parcels_per_day: int,
    now: datetime,
    keys_path: Path = state.DEFAULT_PATH,
    progress: Callable[[int], None] | None = None,
) -> BuildReport:
    """Simulate ``days`` days up to ``now`` and push everything through the app; returns the report.

    The work runs in a thread of its own: no application context may be active while the test client
    serves a request (the CLI has one), else every request would share its ``g``, its database session
    and its authenticated key, unlike under a real server.
    """
    # One access-log line per simulated payload would drown the progress bar; the level is put back after,
    # so a process that goes on serving (or testing) after a build keeps its access log.
    access = logging.getLogger("silkway.access")
    saved = access.level
    access.setLevel(logging.WARNING)
    try:
        with ThreadPoolExecutor(1, thread_name_prefix="demo-build") as pool:
            return pool.submit(_build, app, days, seed, parcels_per_day, now, keys_path, progress).result()
    finally:
        access.setLevel(saved)


def _build(
    app: Flask,
    days: int,
    seed: int,
    parcels_per_day: int,
    now: datetime,
    keys_path: Path,
    progress: Callable[[int], None] | None,
) -> BuildReport:
    started = time.monotonic()
    report = BuildReport(seed=seed, now=now)
    with app.app_context():
        engine = database().engine
        schema.upgrade(engine)
        truth.create(engine)  # the demo's own table, not in the production schema
        with engine.connect() as connection:
            seeds = truth.world_seeds(connection)
        if set(seeds) == {seed}:
            raise AlreadyBuilt(
                f"this database already holds the demo world of seed {seed} ({seeds[seed]} parcels); "
                "nothing to do (silkway serve-demo keeps it going)"
            )
        if seeds:
            built = ", ".join(f"seed {s} ({n} parcels)" for s, n in sorted(seeds.items()))
            raise DemoError(
                f"this database already holds a demo world ({built}); "
                "point SILKWAY_DATABASE_URL at a fresh database to build another"
            )
        start = world_start(now, days)
        world = World(seed=seed, start=start.date(), parcels_per_day=parcels_per_day)
        carrier_keys, merchant_keys = _accounts(world)
    demo_state = state.DemoState(seed, start, parcels_per_day, now, carrier_keys, merchant_keys)
    state.save(demo_state, keys_path)

    client = app.test_client()
    run = WorldRun(world)
    feed = Feed(world, ClientTransport(client), carrier_keys, world.rng("retries"))
    merchants = MerchantApi(world, ClientTransport(client), merchant_keys, _routes(app))
    tick, index = start, 0
    while tick < now:
        until = min(tick + timedelta(days=1), now)
        run.extend(until)
        merchants.register(run.ordered(until))
        merchants.ask_quotes(until, index)
        feed.send(run.due(until), until)
        tick, index = until, index + 1
        if progress:
            progress(1)
    report.stats = feed.stats
    report.registered, report.quotes = merchants.registered, merchants.quotes
    report.missing_endpoints = merchants.missing
    report.stats.errors.extend(merchants.errors)
    placed = run.placed_by(now)
    report.parcels = len(placed)
    with app.app_context():
        with database().engine.begin() as connection:
            rows = [_truth_row(j, now, seed, feed.stats) for j in placed]
            truth.insert_rows(connection, rows)
        _summarise(report, placed)
    report.seconds = time.monotonic() - started
    return report


def ticks(days: int, now: datetime) -> int:
    """How many simulated days (progress steps) a build of ``days`` days takes."""
    start = world_start(now, days)
    return max(1, -(-int((now - start).total_seconds()) // 86400))


def _accounts(world: World) -> tuple[dict[str, str], dict[str, str]]:
    session = database().session()

    def keys() -> tuple[dict[str, str], dict[str, str]]:
        carriers = {}
        for code in CARRIERS:
            fmt = BUILT_IN_FORMATS.get(code, code)
            if fmt not in ADAPTERS:
                raise DemoError(f"carrier {code!r}: no adapter for its native format {fmt!r} is installed")
            carrier = ensure_carrier(session, code, fmt)
            if carrier.format != fmt:
                raise DemoError(f"carrier {code!r} is registered with format {carrier.format!r}, not {fmt!r}")
            carriers[code] = create_key(session, "carrier", carrier=carrier, label="demo world")
        merchants = {}
        for merchant in world.merchants:
            if merchant.uses_api:
                row = ensure_merchant(session, merchant.name)
                merchants[merchant.name] = create_key(session, "merchant", merchant=row, label="demo world")
        return carriers, merchants

    try:
        return commit_unit(session, keys)
    finally:
        session.close()


def _routes(app: Flask) -> set[tuple[str, str]]:
    return {(rule.rule, method) for rule in app.url_map.iter_rules() for method in rule.methods or ()}


def _truth_row(journey: Journey, now: datetime, seed: int, stats: FeedStats) -> dict[str, object]:
    sent, duplicates = stats.per_parcel.get(journey.plan.number, (0, 0))
    return truth.row(journey, now, seed, sent, duplicates)


def _summarise(report: BuildReport, placed: list[Journey]) -> None:
    session: Session = database().session()
    try:
        report.stored_events = session.scalar(select(func.count()).select_from(models.ScanEvent)) or 0
        query = select(models.Parcel.status, func.count()).group_by(models.Parcel.status)
        report.statuses = {str(status): int(count) for status, count in session.execute(query).all()}
        report.fates = Counter(j.fate_at(report.now) for j in placed)
        report.examples = _examples(session, report.now, placed)
    finally:
        session.close()


def _examples(session: Session, now: datetime, placed: list[Journey]) -> dict[str, str]:
    examples: dict[str, str] = {}
    delivered = [j for j in placed if j.fate_at(now) == "delivered"]
    if delivered:
        examples["delivered"] = max(delivered, key=lambda j: j.final_at or now).plan.number
    numbers = {j.plan.number for j in placed}
    customs = session.execute(
        select(models.Identifier.number)
        .join(models.Parcel, models.Parcel.id == models.Identifier.parcel_id)
        .where(models.Parcel.substatus.in_(("customs_processing", "customs_held")))
        .order_by(models.Parcel.status_at.desc())
        .limit(200)
    ).scalars()
    at_customs = next((n for n in customs if n in numbers), None)
    if at_customs:
        examples["at customs"] = at_customs
    flying = [j for j in placed if j.fate_at(now) == "in_flight" and j.fate != "lost"]
    if flying:
        examples["delayed"] = min(flying, key=lambda j: j.shipped_at).plan.number
    returned = [j for j in placed if j.fate_at(now) == "returned"]
    if returned:
        examples["returned"] = max(returned, key=lambda j: j.final_at or now).plan.number
    return examples
