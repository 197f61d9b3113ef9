"""The database for the web layer: one engine per process, a session per request kept on ``g``.

The engine is created lazily on first use, never while the app is being built, so gunicorn can fork
(even with preload_app) without sharing a connection pool between processes.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from tracking.db import default_url, make_engine, make_session_factory, read_only
from tracking.queries import PublicParcel, lookup_public_parcel, public_parcel

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# A unit of work that collides with a concurrent writer (the same identifier or place created first, two
# merges deadlocked, SQLite busy past its timeout) is run again from the start, this often at most.
RETRIES = 6
RETRY_PAUSE = 0.02  # seconds; doubled after each failed attempt, with jitter
T = TypeVar("T")


class Database:
    """Holds the URL and, once used, the engine and session factory of one process."""

    def __init__(self, url: str, engine_options: dict[str, Any] | None = None) -> None:
        self.url = url
        self.engine_options = engine_options or {}
        self._engine: Engine | None = None
        self._factory: sessionmaker[Session] | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()
        # called with each engine made (web/tracing.py traces its statements)
        self.on_engine: list[Callable[[Engine], None]] = []

    @property
    def engine(self) -> Engine:
        """The process's engine, created on first use (and re-created after a fork)."""
        if self._engine is None or self._pid != os.getpid():
            with self._lock:
                if self._engine is None or self._pid != os.getpid():
                    if self._engine is not None:
                        self._engine.dispose(close=False)
                    self._engine = make_engine(self.url, **self.engine_options)
                    for hook in self.on_engine:
                        hook(self._engine)
                    self._factory = make_session_factory(self._engine)
                    self._pid = os.getpid()
        return self._engine

    def session(self) -> Session:
        """A new session bound to the process's engine."""
        self.engine  # noqa: B018 - creates the factory
        assert self._factory is not None
        return self._factory()

    def dispose(self) -> None:
        """Close every pooled connection (tests, shutdown)."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def init_app(app: Flask) -> None:
    """Attach the database to the app and close each request's session at teardown."""
    url = app.config["DATABASE_URL"] or default_url()
    app.extensions["silkway.db"] = Database(url, pool_options(app, url))
    app.teardown_appcontext(_close_session)
    from web import replicas  # it builds on this module: reads from DATABASE_REPLICA_URLS

    replicas.init_app(app, app.extensions["silkway.db"])


def pool_options(app: Flask, url: str) -> dict[str, Any]:
    """PostgreSQL's pool: ping a connection that sat idle (tracking.db.ping_when_idle), or every one before
    use (``DB_POOL_PING_IDLE_SECONDS`` 0), or none (``DB_POOL_PRE_PING`` false: a connection left dead by a
    database restart fails its request with a 503 and is replaced)."""
    if url.startswith("sqlite"):
        return {}
    if not app.config["DB_POOL_PRE_PING"]:
        return {"pool_pre_ping": False}
    idle = float(app.config["DB_POOL_PING_IDLE_SECONDS"])
    return {"pool_pre_ping": True} if idle <= 0 else {"pool_pre_ping": False, "ping_idle_seconds": idle}


def lookup_view(number: str) -> PublicParcel | None:
    """The public view of the parcel carrying ``number``, for a lookup (the API, the tracking pages).

    On PostgreSQL it runs on a pooled driver connection of its own, with no session around it
    (tracking.queries.lookup_public_parcel), on a healthy replica when there is one (web.replicas); on
    SQLite through the request's session, which reads DEFERRED.
    """
    db = database()
    if db.engine.dialect.name == "postgresql":
        from web.replicas import on_reader  # it builds on this module

        return on_reader(lambda engine: lookup_public_parcel(engine, number))
    return public_parcel(get_session(), number)


def database() -> Database:
    """The current app's Database."""
    db: Database = current_app.extensions["silkway.db"]
    return db


def get_session() -> Session:
    """The session of the current request or CLI command, opened on first use.

    It lives until the app context ends. Outside a request that is the end of the CLI command, and on
    SQLite its transaction (IMMEDIATE) holds the write lock until then: a command that keeps running,
    like ``serve-demo``, must read in a session of its own and close it.
    """
    if "db_session" not in g:
        g.db_session = database().session()
        if has_request_context() and request.method in SAFE_METHODS and database().url.startswith("sqlite"):
            # A page or lookup only reads: on SQLite it must not queue behind writers for the lock.
            read_only(g.db_session)
    session: Session = g.db_session
    return session


def close_session() -> None:
    """Close the current request's or command's session now, if one was opened (ending its transaction:
    on SQLite, releasing the write lock); the next get_session() opens a new one."""
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def _close_session(_exc: BaseException | None) -> None:
    close_session()


def commit_unit(session: Session, work: Callable[[], T], *, retries: int = RETRIES) -> T:
    """Run ``work`` as one unit of work on ``session`` and commit it: the one commit of a door.

    Every door (an HTTP request, a CLI command, a scheduled job or one step of it) writes through this
    helper; the services it calls only flush. When the commit or the work collides with a concurrent
    writer (IntegrityError, OperationalError) the session is rolled back and ``work`` runs again from the
    start after a jittered pause, so ``work`` must redo every change it wants committed (a feed cursor
    moves inside the same unit as the events it stands for). Any other exception rolls back and
    propagates: nothing of a refused unit is written.
    """
    for attempt in range(max(retries, 1)):
        try:
            result = work()
            session.commit()
            return result
        except (IntegrityError, OperationalError):
            session.rollback()
            if attempt >= retries - 1:
                raise
            time.sleep(random.uniform(0, RETRY_PAUSE * 2**attempt))
        except BaseException:
            session.rollback()
            raise
    raise AssertionError("unreachable")


@contextmanager
def unit_of_work(session: Session) -> Iterator[Session]:
    """``with unit_of_work(session):`` commits what the block did; rolls it back if it raised (no retry)."""
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    commit_unit(session, lambda: None, retries=1)
