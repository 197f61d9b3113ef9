"""tracking.db: engines tuned for their backend (SQLite: WAL, busy timeout, BEGIN IMMEDIATE for writers,
DEFERRED for readers; PostgreSQL: pings), and sessions whose objects stay readable after commit."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import IntegrityError

from tracking import models
from tracking.db import (
    DEFAULT_SQLITE_PATH,
    SQLITE_BUSY_TIMEOUT_MS,
    default_url,
    is_sqlite,
    make_engine,
    make_session_factory,
    read_only,
)


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Iterator[tuple[Engine, Path]]:
    path = tmp_path / "db.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    yield engine, path
    engine.dispose()


def other_writer(path: Path) -> sqlite3.Connection:
    """A second SQLite connection that gives up at once when the write lock is taken."""
    return sqlite3.connect(path, timeout=0.05, isolation_level=None)


def test_the_url_comes_from_silkway_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SILKWAY_DATABASE_URL", "postgresql+psycopg://db.example.com/silkway")
    assert default_url() == "postgresql+psycopg://db.example.com/silkway"


def test_without_it_the_database_is_an_sqlite_file_under_instance(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SILKWAY_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    assert default_url() == f"sqlite:///{(tmp_path / DEFAULT_SQLITE_PATH).resolve()}"
    assert (tmp_path / "instance").is_dir()


def test_an_sqlite_connection_uses_wal_a_busy_timeout_and_foreign_keys(
    sqlite_file: tuple[Engine, Path],
) -> None:
    engine, _ = sqlite_file
    with engine.connect() as conn:
        pragmas = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "busy_timeout", "foreign_keys", "synchronous")
        }
    assert pragmas == {
        "journal_mode": "wal",
        "busy_timeout": SQLITE_BUSY_TIMEOUT_MS,
        "foreign_keys": 1,
        "synchronous": 1,
    }


def test_a_writer_takes_the_sqlite_write_lock_at_its_first_statement(
    sqlite_file: tuple[Engine, Path],
) -> None:
    engine, path = sqlite_file
    factory = make_session_factory(engine)
    with factory() as session:
        session.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: the lock is held from here
        blocked = other_writer(path)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            blocked.execute("INSERT INTO t VALUES (1)")
        blocked.close()
        session.commit()


def test_a_reader_blocks_no_writer(sqlite_file: tuple[Engine, Path]) -> None:
    engine, path = sqlite_file
    factory = make_session_factory(engine)
    with factory() as session:
        read_only(session)
        assert session.execute(text("SELECT count(*) FROM t")).scalar() == 0
        writer = other_writer(path)
        writer.execute("INSERT INTO t VALUES (1)")
        writer.close()
        assert session.execute(text("SELECT count(*) FROM t")).scalar() == 0  # its snapshot
        session.commit()
        # The next transaction is a writer again.
        session.execute(text("SELECT 1"))
        blocked = other_writer(path)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            blocked.execute("INSERT INTO t VALUES (2)")
        blocked.close()


def test_foreign_keys_are_enforced_on_sqlite(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL always enforces them")
    factory = make_session_factory(engine)
    with factory() as session:
        session.add(models.Identifier(parcel_id=10_000, number="RX747628194CN"))
        with pytest.raises(IntegrityError, match="FOREIGN KEY"):
            session.commit()


def test_objects_stay_readable_after_commit_without_a_query(engine: Engine) -> None:
    factory = make_session_factory(engine)
    with factory() as session:
        merchant = models.Merchant(name="Shenzhen Gadgets")
        session.add(merchant)
        session.commit()
        assert not inspect(merchant).expired
        assert session.scalar(select(models.Merchant.name)) == merchant.name


def test_is_sqlite_tells_the_backend(engine: Engine) -> None:
    with make_session_factory(engine)() as session:
        assert is_sqlite(session) is (engine.dialect.name == "sqlite")


def test_postgresql_pings_every_checkout_unless_told_to_ping_only_idle_connections(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL pools only")
    assert engine.pool._pre_ping  # type: ignore[attr-defined]
    idle = make_engine(engine.url.render_as_string(hide_password=False), ping_idle_seconds=30)
    try:
        assert not idle.pool._pre_ping  # type: ignore[attr-defined]
    finally:
        idle.dispose()


def test_a_pooled_postgresql_connection_killed_while_idle_is_replaced_unseen(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL pools only")
    url = engine.url.render_as_string(hide_password=False)
    pooled = make_engine(url, ping_idle_seconds=0, pool_size=1, max_overflow=0)
    try:
        with pooled.connect() as conn:
            first_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        with engine.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first_pid})
            admin.commit()
        with pooled.connect() as conn:
            second_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        assert second_pid != first_pid
    finally:
        pooled.dispose()
