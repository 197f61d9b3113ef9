"""Electing the one active scheduler per database.

PostgreSQL: a session-level advisory lock held on a dedicated connection for as long as the scheduler
lives (a transaction-level lock, or one taken on a pooled connection, is released at once and protects
nothing). When the process dies its connection closes, the lock is released, and a standby takes over.
SQLite: an exclusive ``flock`` on a file beside the database; the kernel releases it when the process
dies.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine, text

ADVISORY_KEY = 0x5111C_5CED  # "silk sched": any constant shared by every scheduler of a database


class Leadership:
    """Try to become the active scheduler; hold the lock until ``release`` or process death."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Any = None
        self._file: IO[str] | None = None

    def try_acquire(self) -> bool:
        """True when this process is (now) the active scheduler."""
        if self.held:
            return self._still_held()
        if self.engine.dialect.name == "postgresql":
            conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}).scalar())
            if got:
                self._conn = conn
            else:
                conn.close()
            return got
        path = self._lock_path()
        handle = path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle
        return True

    @property
    def held(self) -> bool:
        """Whether this process believes it holds the lock."""
        return self._conn is not None or self._file is not None

    def _still_held(self) -> bool:
        if self._conn is None:
            return True
        try:
            self._conn.execute(text("SELECT 1"))
            return True
        except Exception:  # the connection died: the lock went with it
            self._conn = None
            return False

    def release(self) -> None:
        """Give the lock up (clean shutdown)."""
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
            finally:
                self._conn.close()
                self._conn = None
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    def _lock_path(self) -> Path:
        database = self.engine.url.database
        if database and database != ":memory:":
            return Path(database).with_suffix(".scheduler.lock")
        return Path("instance") / "scheduler.lock"
