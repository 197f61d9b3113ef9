"""Engines and sessions: SQLite (WAL, busy timeout, BEGIN IMMEDIATE) on a laptop, PostgreSQL in production."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_SQLITE_PATH = Path("instance") / "silkway.db"
SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_BEGIN_OPTION = "sqlite_begin"
_LAST_USED = "silkway_last_used"


def default_url() -> str:
    """The database URL from SILKWAY_DATABASE_URL, else an SQLite file under ``instance/``."""
    url = os.environ.get("SILKWAY_DATABASE_URL")
    if url:
        return url
    DEFAULT_SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_SQLITE_PATH.resolve()}"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine tuned for its backend; no connection is made until first use."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)
        _configure_sqlite(engine)
        return engine
    idle = kwargs.pop("ping_idle_seconds", None)
    kwargs.setdefault("pool_pre_ping", idle is None)
    kwargs.setdefault("pool_size", 5)
    kwargs.setdefault("max_overflow", 10)
    engine = create_engine(url, **kwargs)
    if idle is not None:
        ping_when_idle(engine, float(idle))
    return engine


def ping_when_idle(engine: Engine, seconds: float) -> None:
    """Ping a pooled connection before use only when it has been idle for more than ``seconds``.

    SQLAlchemy's ``pool_pre_ping`` costs a round trip on every checkout: on a busy worker, one per
    request. A connection in steady use is very unlikely to be dead, so this pings only those that sat in
    the pool for a while (the ones a database restart, a failover or an idle timeout may have killed); a
    dead one is replaced before the caller sees it (SQLAlchemy's documented checkout-event recipe:
    raising DisconnectionError makes the pool retry with a fresh connection). A connection killed while in
    steady use fails its statement once; SQLAlchemy then invalidates the pool, so the next request gets a
    new connection.
    """

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_LAST_USED] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        last = record.info.get(_LAST_USED)
        if last is None or time.monotonic() - last <= seconds:
            return  # new, or in steady use
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
            dbapi_connection.rollback()  # the ping must not leave the transaction it began open
        except Exception as exc:  # any failure of the ping means the connection is gone
            idle = time.monotonic() - last
            raise DisconnectionError(f"a pooled connection idle for {idle:.0f} s is dead") from exc


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling defers BEGIN and cannot do BEGIN IMMEDIATE; SQLAlchemy's
    # documented recipe turns it off and emits BEGIN ourselves. IMMEDIATE takes the write lock at the
    # start, so concurrent writers queue on the busy timeout instead of failing mid-transaction.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front (IMMEDIATE). Read-only work asks for DEFERRED through
        # read_only(): in WAL mode a reader then blocks nobody, however long it runs.
        mode = conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {'DEFERRED' if mode == 'DEFERRED' else 'IMMEDIATE'}")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def is_sqlite(session: Session) -> bool:
    """True when the session talks to SQLite."""
    return session.get_bind().dialect.name == "sqlite"


def read_only(session: Session) -> None:
    """Mark the session's current transaction as a reader: on SQLite it begins DEFERRED, not IMMEDIATE.

    Call it before the transaction's first statement; the next transaction is a writer again.
    """
    session.connection(execution_options={SQLITE_BEGIN_OPTION: "DEFERRED"})
