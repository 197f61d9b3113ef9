"""A database that goes away makes /readyz answer 503 (and the API 503 problem+json, never 500); when it
comes back, the same gunicorn serves again without a restart."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from tests.reliability.support import (
    Server,
    admin_execute,
    canonical_batch,
    carrier_key,
    dedicated_postgres,
    get,
    gunicorn,
    postgres_admin_url,
)
from tracking import schema
from tracking.db import make_engine

NUMBER = "RX747628194CN"


def _seed(url: str) -> str:
    """A carrier key and one parcel, pushed through a short-lived app."""
    from web import create_app

    key = carrier_key(url)
    app = create_app({"TESTING": True, "DATABASE_URL": url, "RATELIMIT_ENABLED": False, "LOG_LEVEL": "ERROR"})
    event = {
        "tracking_number": NUMBER,
        "status": "in_transit",
        "substatus": "departed",
        "occurred_at": "2026-10-20T08:31:00+08:00",
    }
    resp = app.test_client().post(
        "/api/v1/carriers/acme_post/events",
        data=canonical_batch([event]),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert resp.status_code == 200
    app.extensions["silkway.db"].dispose()
    return key


def _wait_for(check: Callable[[], bool], seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def _assert_outage_then_recovery(
    server: Server, break_db: Callable[[], None], restore_db: Callable[[], None]
) -> None:
    base = server.base
    assert get(base + "/readyz")[0] == 200
    assert get(base + f"/api/v1/parcels/{NUMBER}")[0] == 200
    workers = set(server.workers())
    break_db()
    try:
        assert _wait_for(lambda: get(base + "/readyz")[0] == 503), "/readyz did not notice the outage"
        status, body, content_type = get(base + "/readyz")
        assert status == 503 and content_type == "application/problem+json"
        assert "database" in orjson.loads(body)["detail"]
        for _ in range(6):  # every worker, whatever connection it had: 503 problem+json or a pooled answer
            status, body, content_type = get(base + f"/api/v1/parcels/{NUMBER}")
            assert status in (200, 503), body
            if status == 503:
                assert content_type == "application/problem+json"
    finally:
        restore_db()
    assert _wait_for(lambda: get(base + "/readyz")[0] == 200), "/readyz did not recover"
    assert _wait_for(lambda: get(base + f"/api/v1/parcels/{NUMBER}")[0] == 200)
    assert set(server.workers()) == workers, "a worker was restarted"


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("pre_ping", ["true", "false"])
def test_postgres_outage_gives_503_and_recovers_without_restart(pre_ping):
    if not postgres_admin_url():
        pytest.skip("SILKWAY_TEST_POSTGRES_URL is not set (CI always sets it)")
    with dedicated_postgres() as (url, name):
        _seed(url)

        def break_db() -> None:
            admin_execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
            admin_execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
            )

        def restore_db() -> None:
            admin_execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')

        with gunicorn(url, workers=2, extra_env={"SILKWAY_DB_POOL_PRE_PING": pre_ping}) as server:
            _assert_outage_then_recovery(server, break_db, restore_db)
            # Every request during the outage is 503 once the pooled connections are gone.
            break_db()
            try:
                answers = [get(server.base + f"/api/v1/parcels/{NUMBER}") for _ in range(6)]
            finally:
                restore_db()
            assert {status for status, _, _ in answers} == {503}
            assert {ctype for _, _, ctype in answers} == {"application/problem+json"}


@pytest.mark.slow
def test_sqlite_file_out_of_reach_gives_503_and_recovers_without_restart():
    parent = Path(tempfile.mkdtemp(prefix="silkway-outage-"))
    folder = parent / "data"
    folder.mkdir()
    away = parent / "away"
    url = f"sqlite:///{folder / 'silkway.db'}"
    engine = make_engine(url)
    schema.upgrade(engine)
    engine.dispose()
    _seed(url)

    # chmod 000 on the folder locks out anyone but root, who reads everything: as root (CI) the folder
    # is moved away instead, which takes the file out of reach of a new connection just the same.
    def break_db() -> None:
        if os.geteuid() == 0:
            folder.rename(away)
        else:
            folder.chmod(0o000)

    def restore_db() -> None:
        if away.exists():
            away.rename(folder)
        folder.chmod(0o755)

    try:
        with gunicorn(url, workers=2) as server:
            _assert_outage_then_recovery(server, break_db, restore_db)
    finally:
        restore_db()
        shutil.rmtree(parent, ignore_errors=True)


@pytest.mark.parametrize(
    ("config", "pre_ping", "idle_listener"),
    [
        ({}, False, True),  # the default: ping only connections that sat idle
        ({"DB_POOL_PING_IDLE_SECONDS": 0}, True, False),  # before every use
        ({"DB_POOL_PRE_PING": False}, False, False),  # never
    ],
)
def test_the_pool_pings_connections_as_configured(config, pre_ping, idle_listener):
    from web import create_app

    url = "postgresql+psycopg://postgres@127.0.0.1:1/unused"  # no connection is made
    app = create_app({"DATABASE_URL": url, **config})
    engine = app.extensions["silkway.db"].engine
    assert engine.pool._pre_ping is pre_ping
    assert any(
        getattr(fn, "__name__", "") == "_on_checkout" for fn in engine.pool.dispatch.checkout
    ) is idle_listener


def _backend_pid(engine) -> int:
    from sqlalchemy import text

    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


@pytest.mark.postgres
def test_a_connection_killed_while_idle_is_replaced_before_use():
    from sqlalchemy import text

    if not postgres_admin_url():
        pytest.skip("SILKWAY_TEST_POSTGRES_URL is not set (CI always sets it)")
    engine = make_engine(postgres_admin_url(), pool_size=1, max_overflow=0, ping_idle_seconds=0.2)
    try:
        first = _backend_pid(engine)
        admin_execute(f"SELECT pg_terminate_backend({first}, 5000)")  # waits until it is gone
        time.sleep(0.4)  # longer than the idle threshold: the checkout pings, finds it dead, replaces it
        second = _backend_pid(engine)  # no error reaches the caller
        assert second != first
        time.sleep(0.4)  # a live idle connection is pinged and handed over as it was: outside a transaction
        with engine.connect() as conn:
            assert conn.connection.driver_connection.info.transaction_status.name == "IDLE"
            assert int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one()) == second
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_connection_in_steady_use_is_not_pinged():
    from sqlalchemy.exc import OperationalError

    if not postgres_admin_url():
        pytest.skip("SILKWAY_TEST_POSTGRES_URL is not set (CI always sets it)")
    engine = make_engine(postgres_admin_url(), pool_size=1, max_overflow=0, ping_idle_seconds=60)
    try:
        first = _backend_pid(engine)
        admin_execute(f"SELECT pg_terminate_backend({first}, 5000)")  # waits until it is gone
        # Used a moment ago: no ping (no round trip), so the dead connection fails its statement once...
        with pytest.raises(OperationalError):
            _backend_pid(engine)
        # ...and SQLAlchemy invalidated it: the next use gets a fresh connection.
        assert _backend_pid(engine) != first
    finally:
        engine.dispose()
