"""The demo's ground truth, kept apart from what is sent: what really happened to each parcel.

A table of its own MetaData (not tracking's, so not in the production schema): Silkway's tracking code
never reads it; the simulator writes it and tests and demos compare Silkway's view against it. The demo
creates it (``create``) when it builds a world or goes live; migration 0002 once created it in every
database, 0006 drops it again where it is empty.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.engine import Engine

from tracking.models import NAMING_CONVENTION
from tracking.types import UTCDateTime, utcnow
from web.demo.journeys import Journey

# Tracking's naming convention, so the constraints are named as migration 0002 named them.
metadata = MetaData(naming_convention=NAMING_CONVENTION)

demo_truth = Table(
    "demo_truth",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tracking_number", String(40), nullable=False, unique=True),
    Column("last_mile_number", String(40), nullable=False),
    Column("last_mile_carrier", String(40), nullable=False),
    Column("merchant", String(200), nullable=False),
    Column("service", String(40), nullable=False),
    Column("origin", String(60), nullable=False),
    Column("destination", String(60), nullable=False),
    Column("ordered_at", UTCDateTime(), nullable=False),
    Column("shipped_at", UTCDateTime(), nullable=False),
    Column("delivered_at", UTCDateTime(), nullable=True),
    Column("fate", String(20), nullable=False),
    Column("events_sent", Integer, nullable=False, default=0),
    Column("duplicates_sent", Integer, nullable=False, default=0),
    Column("seed", Integer, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

FATES = ("delivered", "lost", "returned", "in_flight")


def create(bind: Engine | Connection) -> None:
    """Create the truth table in the demo's database unless it is there already."""
    metadata.create_all(bind, checkfirst=True)


def exists(bind: Engine | Connection) -> bool:
    """True when the table is there (a demo world was built in this database)."""
    return inspect(bind).has_table(demo_truth.name)


def world_seeds(connection: Connection) -> dict[int, int]:
    """Parcels already in the truth table, by the seed of the world they belong to."""
    rows = connection.execute(select(demo_truth.c.seed, func.count()).group_by(demo_truth.c.seed)).all()
    return {int(seed): int(count) for seed, count in rows}


def row(journey: Journey, now: datetime, seed: int, sent: int, duplicates: int) -> dict[str, Any]:
    """The truth row of a parcel as of ``now``."""
    plan = journey.plan
    return {
        "tracking_number": plan.number,
        "last_mile_number": plan.last_number,
        "last_mile_carrier": plan.last_mile,
        "merchant": plan.merchant.name,
        "service": plan.service,
        "origin": plan.origin,
        "destination": plan.destination,
        "ordered_at": plan.ordered_at,
        "shipped_at": journey.shipped_at,
        "delivered_at": journey.delivered_by(now),
        "fate": journey.fate_at(now),
        "events_sent": sent,
        "duplicates_sent": duplicates,
        "seed": seed,
        "updated_at": utcnow(),
    }


def insert_rows(connection: Connection, rows: Sequence[dict[str, Any]], chunk: int = 2000) -> None:
    """Add truth rows."""
    for start in range(0, len(rows), chunk):
        connection.execute(insert(demo_truth), list(rows[start : start + chunk]))


def apply(connection: Connection, rows: Iterable[dict[str, Any]]) -> None:
    """Live mode: add new parcels, and for known ones update the fate and add the events just sent."""
    rows = list(rows)
    if not rows:
        return
    numbers = [r["tracking_number"] for r in rows]
    known: set[str] = set()
    for start in range(0, len(numbers), 2000):
        query = select(demo_truth.c.tracking_number).where(
            demo_truth.c.tracking_number.in_(numbers[start : start + 2000])
        )
        known.update(connection.scalars(query))
    insert_rows(connection, [r for r in rows if r["tracking_number"] not in known])
    for r in rows:
        if r["tracking_number"] not in known:
            continue
        connection.execute(
            update(demo_truth)
            .where(demo_truth.c.tracking_number == r["tracking_number"])
            .values(
                fate=r["fate"],
                delivered_at=r["delivered_at"],
                events_sent=demo_truth.c.events_sent + r["events_sent"],
                duplicates_sent=demo_truth.c.duplicates_sent + r["duplicates_sent"],
                updated_at=r["updated_at"],
            )
        )
