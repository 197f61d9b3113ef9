"""Events partitioned by month on PostgreSQL (tracking/partitions.py, migration 0012), a plain table on
SQLite: the same identity, months created late taking their rows from the default partition, whole months
dropped, the migration keeping every event both ways."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from tests.tracking.helpers import T0, carrier, scan, store
from tracking import models, partitions
from tracking.db import make_engine, make_session_factory
from tracking.events import ScanEvent
from tracking.schema import alembic_config
from tracking.statuses import Status


def _partition_of(session: Session, number: str) -> list[str]:
    """The partition (table) holding each event of ``number``."""
    sql = text("SELECT tableoid::regclass::text FROM events WHERE tracking_number = :n ORDER BY occurred_at")
    return list(session.execute(sql, {"n": number}).scalars())


def _postgres(session: Session) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("partitions are PostgreSQL's")


def test_events_are_partitioned_on_postgres_and_plain_on_sqlite(session: Session) -> None:
    conn = session.connection()
    assert partitions.is_partitioned(conn) is (conn.dialect.name == "postgresql")
    if conn.dialect.name == "sqlite":
        assert partitions.ensure_ahead(conn, datetime.now(UTC)) == []
        assert partitions.drop_before(conn, datetime.now(UTC)) == []
        return
    now = partitions.month_of(datetime.now(UTC))
    for month in (now, partitions.add_months(now, partitions.AHEAD_MONTHS)):
        assert month in partitions.months(conn)


def test_one_scan_is_one_event_whatever_its_seconds_and_months_split_in_utc(session: Session) -> None:
    ref = carrier(session)
    edge = datetime(2026, 10, 31, 23, 59, 10, tzinfo=UTC)  # 2026-11-01 02:59 in Moscow: October in UTC

    def at(moment: datetime, substatus: str = "departed") -> ScanEvent:
        return ScanEvent("RX100000001CN", Status.IN_TRANSIT, substatus, moment, "test_post")

    assert store(session, at(edge), ref=ref).accepted == 1
    again = store(session, at(edge + timedelta(seconds=40)), ref=ref)
    assert (again.accepted, again.duplicates) == (0, 1)  # the same minute: the same event, as before
    assert store(session, at(edge + timedelta(minutes=1), "arrived"), ref=ref).accepted == 1
    session.commit()
    assert session.scalar(select(func.count()).select_from(models.ScanEvent)) == 2
    if session.get_bind().dialect.name == "postgresql":
        months = session.execute(text("SELECT occurred_month FROM events ORDER BY occurred_at")).scalars()
        assert list(months) == [date(2026, 10, 1), date(2026, 11, 1)]


def test_a_month_created_late_takes_its_rows_from_the_default_partition(session: Session) -> None:
    _postgres(session)
    store(session, scan("RX100000002CN", -24 * 365 * 6))  # October 2020: no month of its own yet
    session.commit()
    assert _partition_of(session, "RX100000002CN") == [partitions.DEFAULT_PARTITION]
    conn = session.connection()
    created = partitions.ensure_months(conn, date(2020, 9, 1), date(2020, 10, 1))
    session.commit()
    assert created == ["events_2020_09", "events_2020_10"]
    assert _partition_of(session, "RX100000002CN") == ["events_2020_10"]
    assert partitions.ensure_months(session.connection(), date(2020, 9, 1), date(2020, 10, 1)) == []
    again = store(session, scan("RX100000002CN", -24 * 365 * 6))
    assert again.duplicates == 1  # the identity holds in the new month too


def test_retention_detaches_and_drops_whole_months(session: Session) -> None:
    _postgres(session)
    conn = session.connection()
    partitions.ensure_months(conn, date(2026, 8, 1), date(2026, 10, 1))
    session.commit()
    store(session, scan("RX100000003CN", -24 * 20), scan("RX100000003CN", 24 * 3))  # September, October
    session.commit()
    assert _partition_of(session, "RX100000003CN") == ["events_2026_09", "events_2026_10"]
    dropped = partitions.drop_before(session.connection(), T0 + timedelta(days=14))
    session.commit()
    assert "events_2026_09" in dropped and "events_2026_08" in dropped and "events_2026_10" not in dropped
    assert _partition_of(session, "RX100000003CN") == ["events_2026_10"]
    assert date(2026, 9, 1) not in partitions.months(session.connection())


def test_the_migration_keeps_every_event_both_ways(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    config = alembic_config(postgres_url)
    try:
        with make_session_factory(engine)() as session:
            number = "RX100000004CN"
            store(session, scan(number, 0), scan(number, -24 * 40), scan(number, 5))
            session.commit()
        command.downgrade(config, "0011")
        with engine.connect() as conn:
            assert not partitions.is_partitioned(conn)
            count = "SELECT count(*) FROM events WHERE tracking_number = 'RX100000004CN'"
            assert conn.execute(text(count)).scalar() == 3
        command.upgrade(config, "head")
        with make_session_factory(engine)() as session:
            assert partitions.is_partitioned(session.connection())
            assert len(_partition_of(session, "RX100000004CN")) == 3
            assert store(session, scan("RX100000004CN", 5)).duplicates == 1
            assert store(session, scan("RX100000004CN", 6)).accepted == 1  # ids go on from the same sequence
            session.commit()
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM events WHERE tracking_number = 'RX100000004CN'"))
        engine.dispose()


def test_the_scheduler_creates_months_ahead_and_retention_drops_whole_old_ones(app, session: Session) -> None:
    _postgres(session)
    from web.worker.partition_jobs import create_partitions_job
    from web.worker.retention import drop_history

    later = datetime(2031, 2, 10, tzinfo=UTC)
    try:
        assert create_partitions_job(app, later) == [f"events_2031_0{m}" for m in (2, 3, 4, 5)]
        assert create_partitions_job(app, later) == []
        assert drop_history(app, later) == []  # HISTORY_RETENTION_MONTHS 0: the history is kept
        app.config["HISTORY_RETENTION_MONTHS"] = 2
        dropped = drop_history(app, later)
        assert partitions.partition_name(T0.date()) in dropped
        assert all(name < "events_2030_12" for name in dropped)
        left = partitions.months(session.connection())
        assert left and min(left) >= date(2030, 12, 1)
    finally:
        session.rollback()
        with app.extensions["silkway.db"].engine.begin() as conn:  # the months other tests expect
            partitions.ensure_ahead(conn, datetime.now(UTC))
