"""A PostgreSQL primary and a streaming replica of the tests' own: initdb, pg_basebackup -R, pg_ctl.

The clusters live in a temporary directory on free loopback ports and are stopped (and removed) when the
session ends. As root the server binaries run as the ``postgres`` user (runuser). With
``SILKWAY_TEST_POSTGRES_URL`` set (CI) and the binaries on the machine, anything that goes wrong fails the
tests rather than skipping them.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.reliability.support import free_port, postgres_admin_url
from tracking import schema
from tracking.db import make_engine

SETTINGS = {  # small and fast: a test cluster, not a durable one
    "listen_addresses": "'127.0.0.1'",
    "shared_buffers": "'32MB'",
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "off",
    "max_connections": "60",
    "wal_level": "replica",
    "max_wal_senders": "4",
    "hot_standby": "on",
    "wal_receiver_status_interval": "1s",
}


def server_bin_dir() -> Path | None:
    """The directory of initdb, pg_ctl and pg_basebackup: SILKWAY_TEST_PG_BIN, Debian's newest, or PATH."""
    named = os.environ.get("SILKWAY_TEST_PG_BIN")
    candidates = [named] if named else []
    debian = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += sorted(debian, key=lambda path: int(path.split("/")[-2]), reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(str(Path(on_path).parent))
    for candidate in candidates:
        path = Path(candidate)
        if all((path / tool).exists() for tool in ("initdb", "pg_ctl", "pg_basebackup")):
            return path
    return None


@dataclass
class Cluster:
    """One running PostgreSQL server of ours."""

    data: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/silkway"

    def execute(self, sql: str, database: str = "silkway") -> list[tuple[object, ...]]:
        """One statement in autocommit; its rows."""
        engine = make_engine(
            f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}",
            isolation_level="AUTOCOMMIT",
            pool_size=1,
        )
        try:
            with engine.connect() as conn:
                result = conn.execute(text(sql))
                return [tuple(row) for row in result.all()] if result.returns_rows else []
        finally:
            engine.dispose()


class Clusters:
    """Runs the server binaries (as ``postgres`` when we are root) in one temporary directory."""

    def __init__(self, bin_dir: Path, settings: dict[str, str] | None = None) -> None:
        self.bin_dir = bin_dir
        self.settings = {**SETTINGS, **(settings or {})}
        self.root = Path(tempfile.mkdtemp(prefix="silkway-replica-"))
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")
        self.running: list[Cluster] = []

    def run(self, tool: str, *args: str, timeout: float = 120) -> None:
        cmd = [str(self.bin_dir / tool), *args]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=self.root)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")

    def primary(self) -> Cluster:
        cluster = Cluster(self.root / "primary", free_port())
        data = str(cluster.data)
        self.run("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        self._configure(cluster)
        self.start(cluster)
        cluster.execute("CREATE DATABASE silkway", database="postgres")
        return cluster

    def replica_of(self, primary: Cluster) -> Cluster:
        cluster = Cluster(self.root / "replica", free_port())
        self.run(
            "pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
            "-D", str(cluster.data), "-R", "-X", "stream", "-c", "fast", "--no-sync",
        )  # fmt: skip
        self._configure(cluster)
        self.start(cluster)
        return cluster

    def _configure(self, cluster: Cluster) -> None:
        settings = {**self.settings, "port": str(cluster.port), "unix_socket_directories": f"'{self.root}'"}
        with open(cluster.data / "postgresql.auto.conf", "a") as conf:
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())

    def start(self, cluster: Cluster) -> None:
        log = str(self.root / f"{cluster.data.name}.log")
        self.run("pg_ctl", "-D", str(cluster.data), "-l", log, "-w", "-t", "60", "start")
        if cluster not in self.running:
            self.running.append(cluster)

    def stop(self, cluster: Cluster, mode: str = "fast") -> None:
        self.run("pg_ctl", "-D", str(cluster.data), "-m", mode, "-w", "-t", "60", "stop")
        self.running.remove(cluster)

    def close(self) -> None:
        for cluster in list(reversed(self.running)):
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self.stop(cluster, "immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class Replicated:
    """A migrated primary with one streaming replica, and the means to stop and start them."""

    clusters: Clusters
    primary: Cluster
    replica: Cluster

    def wait_replayed(self, timeout: float = 30) -> None:
        """Until the replica has replayed everything the primary has written so far."""
        (target,) = self.primary.execute("SELECT pg_current_wal_lsn()::text")[0]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = self.replica.execute(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn")
            if rows and rows[0][0]:
                return
            time.sleep(0.05)
        raise AssertionError(f"the replica did not replay up to {target} in {timeout} s")


def replicated_clusters() -> Iterator[Replicated]:
    """The session fixture's body: skip without a PostgreSQL to test (or its binaries), else fail loudly."""
    bin_dir = server_bin_dir()
    if bin_dir is None:
        missing = "no PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) on this machine"
        if os.environ.get("CI"):  # CI's machines have them: their absence is a broken machine, not a skip
            pytest.fail(missing)
        pytest.skip(missing)
    if postgres_admin_url() is None:
        pytest.skip("SILKWAY_TEST_POSTGRES_URL is not set: PostgreSQL tests are off (CI always sets it)")
    clusters = Clusters(bin_dir)
    try:
        primary = clusters.primary()
        engine = make_engine(primary.url)
        schema.upgrade(engine)
        engine.dispose()
        replica = clusters.replica_of(primary)
        replicated = Replicated(clusters, primary, replica)
        replicated.wait_replayed()
        yield replicated
    finally:
        clusters.close()
