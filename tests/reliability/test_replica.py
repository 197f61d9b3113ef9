"""Reads on a real streaming replica (replica_support: initdb, pg_basebackup -R, pg_ctl), through gunicorn.

Lookups are served by the replica (its own statistics count them, the primary's do not move); a merchant
sees its registration at once while the replica is not replaying; a replica stopped mid-load fails no
request; one that falls behind is skipped, its lag on /metrics, and used again once it catches up.
"""

from __future__ import annotations

import http.cookiejar
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from urllib.error import HTTPError

import orjson
import pytest

from tests.reliability.replica_support import Replicated, replicated_clusters
from tests.reliability.support import Server, canonical_batch, carrier_key, get, gunicorn
from tests.reliability.test_database_outage import _wait_for
from tests.web.support import parcel
from tracking.accounts import create_key, ensure_merchant
from tracking.db import make_engine, make_session_factory

pytestmark = pytest.mark.slow
NUMBERS = [f"RX{n:08d}CN" for n in range(74762810, 74762830)]
MAX_LAG = 2.0


@pytest.fixture(scope="session")
def replicated() -> Iterator[Replicated]:
    """A migrated primary and a streaming replica of this session's own."""
    yield from replicated_clusters()


@pytest.fixture(scope="module")
def served(replicated: Replicated) -> Iterator[tuple[Server, str]]:
    """Two gunicorn workers reading on the replica; a merchant key; parcels scanned on the primary."""
    key = carrier_key(replicated.primary.url)
    engine = make_engine(replicated.primary.url)
    with make_session_factory(engine)() as session:
        shop = create_key(session, "merchant", merchant=ensure_merchant(session, "Replica Shop"))
        session.commit()
    engine.dispose()
    env = {
        "SILKWAY_DATABASE_REPLICA_URLS": replicated.replica.url,
        "SILKWAY_REPLICA_MAX_LAG_SECONDS": str(MAX_LAG),
        "SILKWAY_REPLICA_CHECK_SECONDS": "0.2",
    }
    with gunicorn(replicated.primary.url, workers=2, extra_env=env) as server:
        scan = {"status": "in_transit", "substatus": "departed", "occurred_at": "2026-10-20T08:31:00+08:00"}
        events = [{"tracking_number": n, **scan} for n in NUMBERS]
        pushed = _request(server.base + "/api/v1/carriers/acme_post/events", key, canonical_batch(events))
        assert pushed[0] == 200, pushed
        replicated.wait_replayed()
        yield server, shop


def _request(
    url: str, key: str, body: bytes | None = None, opener: Callable[..., object] | None = None
) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    req = urllib.request.Request(url, data=body, headers=headers)
    try:
        with (opener or urllib.request.urlopen)(req, timeout=10) as resp:  # type: ignore[operator]
            return int(resp.status), bytes(resp.read())
    except HTTPError as exc:
        return exc.code, exc.read()


def _index_scans(cluster_execute: Callable[[str], list[tuple[object, ...]]]) -> int:
    """Index scans of identifiers (each lookup starts with one) counted by that server for its own queries."""
    rows = cluster_execute("SELECT idx_scan FROM pg_stat_user_tables WHERE relname = 'identifiers'")
    return int(rows[0][0])  # type: ignore[call-overload]


def _settled(cluster_execute: Callable[[str], list[tuple[object, ...]]]) -> int:
    """The counter once it has stopped moving (statistics reach the view within about a second)."""
    last = _index_scans(cluster_execute)
    while True:
        time.sleep(1.2)
        now = _index_scans(cluster_execute)
        if now == last:
            return now
        last = now


def _lag_gauge(server: Server) -> float:
    status, body, _ = get(server.base + "/metrics")
    assert status == 200
    lines = body.decode().splitlines()
    values = [line.rsplit(" ", 1)[1] for line in lines if line.startswith("silkway_db_replica_lag_seconds{")]
    assert values, "no replica lag gauge on /metrics"
    return max(float(v) for v in values)


def test_lookups_are_served_by_the_replica(replicated: Replicated, served: tuple[Server, str]) -> None:
    server, _ = served
    assert replicated.replica.execute("SELECT pg_is_in_recovery()") == [(True,)]
    on_primary, on_replica = _settled(replicated.primary.execute), _settled(replicated.replica.execute)
    for number in NUMBERS:
        status, body, _ = get(server.base + f"/api/v1/parcels/{number}")
        assert status == 200, body
        assert get(server.base + f"/track/{number}")[0] == 200
    assert _settled(replicated.replica.execute) - on_replica >= 2 * len(NUMBERS)
    assert _settled(replicated.primary.execute) == on_primary, "a lookup read the primary"
    assert get(server.base + "/readyz")[0] == 200  # about the primary, as before


def test_a_merchant_reads_its_own_registration_at_once(
    replicated: Replicated, served: tuple[Server, str]
) -> None:
    server, shop = served
    cookies = urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    merchant = urllib.request.build_opener(cookies).open
    replicated.replica.execute("SELECT pg_wal_replay_pause()")
    try:
        number = "RA123456785CN"
        body = orjson.dumps(parcel(number, "REPLICA-1"))
        status, answer = _request(server.base + "/api/v1/parcels", shop, body, merchant)
        assert status == 201, answer
        for _ in range(4):  # both workers: the cookie names the write's WAL position, which the replica lacks
            status, listed = _request(server.base + "/api/v1/parcels", shop, opener=merchant)
            assert status == 200 and number in listed.decode(), listed
        on_replica = f"SELECT count(*) FROM identifiers WHERE number = '{number}'"
        assert replicated.replica.execute(on_replica) == [(0,)]  # the replica had not replayed it
    finally:
        replicated.replica.execute("SELECT pg_wal_replay_resume()")
    replicated.wait_replayed()


def test_a_lagging_replica_is_skipped_and_comes_back(
    replicated: Replicated, served: tuple[Server, str]
) -> None:
    server, shop = served
    assert _wait_for(lambda: _lag_gauge(server) == 0.0)
    replicated.replica.execute("SELECT pg_wal_replay_pause()")
    number = "RA223456781CN"
    try:
        body = orjson.dumps(parcel(number, "LAG-1"))
        status, answer = _request(server.base + "/api/v1/parcels", shop, body)
        assert status == 201, answer
        # the public (no key, no cookie) first meets the stale replica, then the primary once it is skipped
        assert get(server.base + f"/api/v1/parcels/{number}")[0] == 404
        assert _wait_for(lambda: _lag_gauge(server) > MAX_LAG), "the lag gauge did not grow"
        time.sleep(0.5)  # every worker's checker has seen it
        for _ in range(6):
            assert get(server.base + f"/api/v1/parcels/{number}")[0] == 200
    finally:
        replicated.replica.execute("SELECT pg_wal_replay_resume()")
    assert _wait_for(lambda: _lag_gauge(server) == 0.0), "the replica did not come back"
    time.sleep(0.5)
    before = _settled(replicated.replica.execute)
    for n in NUMBERS[:5]:
        assert get(server.base + f"/api/v1/parcels/{n}")[0] == 200
    assert _settled(replicated.replica.execute) > before, "the recovered replica serves no lookups"


def test_stopping_the_replica_mid_load_fails_no_request(
    replicated: Replicated, served: tuple[Server, str]
) -> None:
    server, _ = served
    failures: list[tuple[str, int]] = []
    answered = [0]
    stop = threading.Event()

    def load() -> None:
        i = 0
        while not stop.is_set():
            number = NUMBERS[i % len(NUMBERS)]
            path = f"/api/v1/parcels/{number}" if i % 2 else f"/track/{number}"
            status = get(server.base + path, timeout=15)[0]
            if status != 200:
                failures.append((path, status))
            answered[0] += 1
            i += 1

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.5)
        replicated.clusters.stop(replicated.replica, "fast")
        time.sleep(2.0)
        stopped_at = answered[0]
        time.sleep(1.0)
        assert answered[0] > stopped_at, "no lookup answered with the replica down"
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        if replicated.replica not in replicated.clusters.running:
            replicated.clusters.start(replicated.replica)
    assert failures == []
    assert _wait_for(lambda: _lag_gauge(server) == 0.0, 30), "the restarted replica did not come back"
