"""Reads on PostgreSQL streaming replicas (``DATABASE_REPLICA_URLS``); writes and fresh reads on the primary.

Public lookups, pages, the ETA's reads and the dashboard's lists ask :func:`reading` (a session) or
:func:`on_reader` (an engine) for a reader: a replica that the health checker last found up and no more
than ``REPLICA_MAX_LAG_SECONDS`` behind, else the primary. Everything else (writes, authentication, the
unit of work) stays on the primary's session (web.db.get_session).

Read-your-writes: when a request that may write (not GET/HEAD/OPTIONS) ends, the primary's WAL position
(``pg_current_wal_insert_lsn()``, taken after the request's commit) is kept for its API key in this
process and given to the client in the cookie ``silkway_written``; for ``READ_YOUR_WRITES_SECONDS`` that
client then reads a replica only once the replica has replayed past that position, else the primary. A
client keeping cookies is covered on every worker and machine; one that does not, on the worker that took
its write (other workers' replicas are usually milliseconds behind). The cookie is not signed: forging it
can only send one's own reads to the primary.

Health: each process runs a small checker thread (every ``REPLICA_CHECK_SECONDS``) that reads the
primary's WAL position and each replica's replayed position; its cached state is what requests route on,
so a request never waits for a check. A replica's lag is how long ago the primary was last seen at a
position the replica has replayed (0 when it has replayed all the primary has), exported per replica as
``silkway_db_replica_lag_seconds``. A replica that is down, promoted, or too far behind is skipped until a
check finds it well again; a read that fails on a replica marks it down and runs again on the primary.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, has_request_context, request
from sqlalchemy import Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from web.db import SAFE_METHODS, Database, database, get_session
from web.metrics import DB_READS, REPLICA_LAG

log = logging.getLogger(__name__)
T = TypeVar("T")
COOKIE = "silkway_written"
EXTENSION = "silkway.replicas"
CHECK_SQL = (
    "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text,"
    " extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())"
)
CONNECT_TIMEOUT_SECONDS = 2


def parse_lsn(text: str | None) -> int | None:
    """A WAL position ``'16/B374D848'`` as one integer (None stays None)."""
    if not text:
        return None
    high, _, low = text.partition("/")
    return (int(high, 16) << 32) + int(low, 16)


def replica_urls(value: str | list[str] | None) -> list[str]:
    """``DATABASE_REPLICA_URLS``: a comma-separated string (or a list), blanks dropped."""
    if not value:
        return []
    items = value.split(",") if isinstance(value, str) else value
    return [item.strip() for item in items if item and item.strip()]


@dataclass(slots=True)
class ReplicaState:
    """What the last check found (requests read it, only the checker writes it)."""

    healthy: bool = False
    lag: float | None = None
    replay_lsn: int | None = None
    error: str | None = None


class Replica:
    """One replica: its database (engine and sessions, made per process) and its checked state."""

    def __init__(self, url: str, engine_options: dict[str, Any]) -> None:
        parsed = make_url(url)
        self.name = f"{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database or ''}"
        options = {**engine_options, "connect_args": {"connect_timeout": CONNECT_TIMEOUT_SECONDS}}
        self.db = Database(url, options)
        self.state = ReplicaState()

    def mark_down(self, reason: str) -> None:
        """Skip this replica until a check finds it well again."""
        if self.state.healthy:
            log.warning("replica %s skipped: %s", self.name, reason)
        self.state = ReplicaState(healthy=False, lag=self.state.lag, error=reason)


class ReplicaSet:
    """The replicas of one app, their checker thread (one per process) and the routing between them."""

    def __init__(self, primary: Database, urls: list[str], config: dict[str, Any]) -> None:
        self.primary = primary
        self.replicas = [Replica(url, primary.engine_options) for url in urls]
        self.max_lag = float(config["REPLICA_MAX_LAG_SECONDS"])
        self.interval = float(config["REPLICA_CHECK_SECONDS"])
        self.window = float(config["READ_YOUR_WRITES_SECONDS"])
        self.written: dict[int, tuple[int, float]] = {}  # key id -> (LSN, until) in this process
        self._samples: deque[tuple[float, int]] = deque()  # (monotonic time, primary LSN)
        self._turn = itertools.count()
        self._pid: int | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()

    # --- the checker -------------------------------------------------------------------------------
    def ensure_checking(self) -> None:
        """Check once now and start the checker thread, the first time in this process (and after a fork)."""
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            self._samples.clear()
            self.check()
            thread = threading.Thread(target=self._run, name="silkway-replica-checker", daemon=True)
            thread.start()
            self._pid = os.getpid()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception:  # the checker must outlive anything a check runs into
                log.exception("replica check failed")

    def stop(self) -> None:
        """Stop the checker and close every replica connection (tests, shutdown)."""
        self._stop.set()
        for replica in self.replicas:
            replica.db.dispose()

    def check(self) -> None:
        """Read the primary's WAL position, then each replica's: update their states and lag gauges."""
        now = time.monotonic()
        primary_lsn = self._primary_lsn()
        if primary_lsn is not None:
            self._samples.append((now, primary_lsn))
        horizon = now - max(60.0, 4 * self.max_lag)
        while self._samples and self._samples[0][0] < horizon:
            self._samples.popleft()
        for replica in self.replicas:
            replica.state = self._check_replica(replica, primary_lsn, now)
            if replica.state.lag is not None:
                REPLICA_LAG.labels(replica.name).set(replica.state.lag)

    def _primary_lsn(self) -> int | None:
        try:
            with self.primary.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                return parse_lsn(conn.exec_driver_sql("SELECT pg_current_wal_lsn()::text").scalar())
        except DBAPIError:
            return None  # the primary is away: lag from the replica's own replay time

    def _check_replica(self, replica: Replica, primary_lsn: int | None, now: float) -> ReplicaState:
        try:
            with replica.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                recovering, replay_text, replay_age = conn.exec_driver_sql(CHECK_SQL).one()
        except DBAPIError as exc:
            replica.mark_down(f"unreachable: {type(exc.orig).__name__}")
            REPLICA_LAG.labels(replica.name).set(float("inf"))
            return replica.state
        replay = parse_lsn(replay_text)
        if not recovering or replay is None:
            return ReplicaState(error="not a standby (promoted?)")
        lag = self._lag(replay, primary_lsn, now, None if replay_age is None else float(replay_age))
        healthy = lag <= self.max_lag
        checked_before = replica.state.lag is not None or replica.state.error is not None
        if replica.state.healthy != healthy and checked_before:
            log.warning("replica %s %s (lag %.1f s)", replica.name, "back" if healthy else "skipped", lag)
        return ReplicaState(healthy=healthy, lag=lag, replay_lsn=replay, error=None if healthy else "lagging")

    def _lag(self, replay: int, primary_lsn: int | None, now: float, replay_age: float | None) -> float:
        """0 when the replica has replayed what the primary has; else how long ago the primary was last seen
        at a position the replica has replayed (the replica's time since its last replayed commit when no
        check saw one)."""
        if primary_lsn is not None and replay >= primary_lsn:
            return 0.0
        seen = [at for at, lsn in self._samples if lsn <= replay]
        if seen:
            return max(now - max(seen), 0.0)
        return max(replay_age, 0.0) if replay_age is not None else float("inf")

    # --- routing -----------------------------------------------------------------------------------
    def choose(self) -> Replica | None:
        """A healthy replica this request may read (round robin), or None: read the primary."""
        self.ensure_checking()
        if has_request_context() and request.method not in SAFE_METHODS:
            return None
        needed = self._written_lsn()
        candidates = [
            r
            for r in self.replicas
            if r.state.healthy
            and (needed is None or (r.state.replay_lsn is not None and r.state.replay_lsn >= needed))
        ]
        if not candidates:
            return None
        return candidates[next(self._turn) % len(candidates)]

    def _written_lsn(self) -> int | None:
        """The WAL position this client must read past (its own recent write), or None."""
        if not has_request_context():
            return None
        found: list[int] = []
        with contextlib.suppress(ValueError):  # a cookie that is no WAL position is ignored
            found += [lsn for lsn in [parse_lsn(request.cookies.get(COOKIE))] if lsn is not None]
        key_id = getattr(g.get("principal"), "key_id", None)
        if key_id is not None and key_id in self.written:
            lsn, until = self.written[key_id]
            if until > time.monotonic():
                found.append(lsn)
            else:
                self.written.pop(key_id, None)
        return max(found) if found else None

    def remember_write(self, response: Response) -> Response:
        """After a request that may have written: keep the primary's WAL position for this client."""
        if request.method in SAFE_METHODS or response.status_code >= 400 or "db_session" not in g:
            return response
        lsn_text = self._primary_lsn_text()
        if lsn_text is None:
            return response
        principal = g.get("principal")
        key_id = getattr(principal, "key_id", None)
        if key_id is not None:
            lsn = parse_lsn(lsn_text)
            assert lsn is not None
            self.written[key_id] = (lsn, time.monotonic() + self.window)
        response.set_cookie(COOKIE, lsn_text, max_age=int(self.window), httponly=True, samesite="Lax")
        return response

    def _primary_lsn_text(self) -> str | None:
        try:
            # the insert position: with synchronous_commit off the commit may not be written out yet
            sql = "SELECT pg_current_wal_insert_lsn()::text"
            value = get_session().connection().exec_driver_sql(sql).scalar()
        except DBAPIError:
            return None
        finally:
            get_session().rollback()
        return str(value) if value else None


def replica_set() -> ReplicaSet | None:
    """The current app's replicas, or None when it has none."""
    found: ReplicaSet | None = current_app.extensions.get(EXTENSION)
    return found


def on_reader(work: Callable[[Engine], T]) -> T:
    """``work`` on a replica's engine when one may serve this read, else (or failing there) the primary's."""
    replicas = replica_set()
    replica = replicas.choose() if replicas is not None else None
    if replica is not None:
        try:
            result = work(replica.db.engine)
        except OperationalError as exc:  # the replica went away (or cancelled the read): the primary reads
            replica.mark_down(f"a read failed: {type(exc.orig).__name__}")
        else:
            DB_READS.labels("replica").inc()
            return result
    DB_READS.labels("primary").inc()
    return work(database().engine)


def reading(work: Callable[[Session], T]) -> T:
    """``work`` with a session on a replica when one may serve this read, else the request's own session.

    The replica's session lives until the app context ends; a read that fails there marks the replica down
    and runs again on the primary's session."""
    replicas = replica_set()
    replica = replicas.choose() if replicas is not None else None
    if replica is not None:
        session = g.get("replica_session")
        if session is None or session.get_bind() is not replica.db.engine:
            _close_replica_session()
            session = g.replica_session = replica.db.session()
        try:
            result = work(session)
        except OperationalError as exc:
            _close_replica_session()
            replica.mark_down(f"a read failed: {type(exc.orig).__name__}")
        else:
            DB_READS.labels("replica").inc()
            return result
    DB_READS.labels("primary").inc()
    return work(get_session())


def _close_replica_session(_exc: BaseException | None = None) -> None:
    session = g.pop("replica_session", None)
    if session is not None:
        session.close()


def init_app(app: Flask, primary: Database) -> None:
    """Route reads to ``DATABASE_REPLICA_URLS`` (PostgreSQL only); nothing changes without them."""
    urls = replica_urls(app.config.get("DATABASE_REPLICA_URLS"))
    if not urls or not primary.url.startswith("postgresql"):
        return
    replicas = ReplicaSet(primary, urls, app.config)
    app.extensions[EXTENSION] = replicas
    app.after_request(replicas.remember_write)
    app.teardown_appcontext(_close_replica_session)
