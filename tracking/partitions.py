"""Monthly partitions of the event history on PostgreSQL (SQLite keeps one plain table).

``events`` is partitioned by range on ``occurred_month``, the first day (UTC) of the month of
``occurred_at``: migration 0012 makes it so and ingestion writes the column (tracking.ingest_sql). An
event's identity ``(parcel_id, fingerprint)`` stays what it was: the fingerprint holds the scan's minute in
UTC, so one fingerprint always falls in one month, and the unique constraint
``(parcel_id, fingerprint, occurred_month)`` that PostgreSQL requires (a partitioned table's unique keys
include its partition key) refuses exactly what ``(parcel_id, fingerprint)`` refused. No foreign key
points at ``events``; its own (parcels, carriers, locations, raw_payloads) stay.

Each month is a table ``events_YYYY_MM``; ``events_default`` takes what no month holds (scans dated long
ago or far ahead). The scheduler creates months ahead (:func:`ensure_ahead`; a month whose rows already
landed in the default partition takes them over), and retention drops whole months (:func:`drop_before`):
``DETACH PARTITION`` then ``DROP TABLE``, no row-by-row deletes.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from sqlalchemy import Connection, text

TABLE = "events"
DEFAULT_PARTITION = f"{TABLE}_default"
MONTH_NAME = re.compile(rf"^{TABLE}_(\d{{4}})_(\d{{2}})$")
AHEAD_MONTHS = 3  # months created ahead of the current one
MONTH_SQL = "CAST(date_trunc('month', {column} AT TIME ZONE 'UTC') AS date)"  # month_of in SQL


def month_of(moment: datetime | date) -> date:
    """The first day of the (UTC) month of ``moment``."""
    if isinstance(moment, datetime):
        moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).date()
    return moment.replace(day=1)


def add_months(month: date, count: int) -> date:
    """The first day of the month ``count`` months after ``month`` (before, when negative)."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def partition_name(month: date) -> str:
    """``events_2026_12`` for December 2026."""
    return f"{TABLE}_{month:%Y_%m}"


def is_partitioned(conn: Connection) -> bool:
    """True on PostgreSQL once ``events`` is a partitioned table."""
    if conn.dialect.name != "postgresql":
        return False
    sql = "SELECT EXISTS (SELECT FROM pg_partitioned_table WHERE partrelid = to_regclass(:table))"
    return bool(conn.execute(text(sql), {"table": TABLE}).scalar())


def months(conn: Connection) -> list[date]:
    """The months that have a partition of their own, oldest first."""
    sql = (
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = to_regclass(:table)"
    )
    found = [MONTH_NAME.match(name) for name in conn.execute(text(sql), {"table": TABLE}).scalars()]
    return sorted(date(int(m[1]), int(m[2]), 1) for m in found if m)


def ensure_months(conn: Connection, first: date, last: date) -> list[str]:
    """Create the partitions of the months from ``first`` to ``last`` that are missing; their names.

    A month whose rows are in the default partition already (late or early scans) is created as a plain
    table, takes those rows and is then attached, so no row is ever lost or refused."""
    have = set(months(conn))
    created = []
    month = month_of(first)
    while month <= last:
        if month not in have:
            _create_month(conn, month)
            created.append(partition_name(month))
        month = add_months(month, 1)
    return created


def _create_month(conn: Connection, month: date) -> None:
    name = partition_name(month)
    # DDL takes no parameters: the bounds are dates made here, written as literals.
    values = f"FOR VALUES FROM ('{month.isoformat()}') TO ('{add_months(month, 1).isoformat()}')"
    stray_sql = f"SELECT EXISTS (SELECT FROM {DEFAULT_PARTITION} WHERE occurred_month = :month)"  # noqa: S608
    if not conn.execute(text(stray_sql), {"month": month}).scalar():
        conn.execute(text(f"CREATE TABLE {name} PARTITION OF {TABLE} {values}"))
        return
    conn.execute(text(f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS)"))
    move = (
        f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION} WHERE occurred_month = :month RETURNING *)"  # noqa: S608
        f" INSERT INTO {name} SELECT * FROM moved"
    )
    conn.execute(text(move), {"month": month})
    conn.execute(text(f"ALTER TABLE {TABLE} ATTACH PARTITION {name} {values}"))


def ensure_ahead(conn: Connection, now: datetime, ahead: int = AHEAD_MONTHS) -> list[str]:
    """The scheduler's part: this month and ``ahead`` months after it exist (a no-op off PostgreSQL)."""
    if not is_partitioned(conn):
        return []
    current = month_of(now)
    return ensure_months(conn, current, add_months(current, ahead))


def drop_before(conn: Connection, cutoff: datetime | date) -> list[str]:
    """Detach and drop every month that ended by the start of ``cutoff``'s month; their names."""
    if not is_partitioned(conn):
        return []
    limit = month_of(cutoff)
    dropped = []
    for month in months(conn):
        if add_months(month, 1) <= limit:
            name = partition_name(month)
            conn.execute(text(f"ALTER TABLE {TABLE} DETACH PARTITION {name}"))
            conn.execute(text(f"DROP TABLE {name}"))
            dropped.append(name)
    # what the default partition holds from before (scans dated long ago): few rows, deleted
    conn.execute(text(f"DELETE FROM {DEFAULT_PARTITION} WHERE occurred_month < :limit"), {"limit": limit})  # noqa: S608
    return dropped
