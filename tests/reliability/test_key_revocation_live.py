"""A key revoked (or rotated with no grace) by the `silkway` CLI, in a process of its own, is refused by
every worker of a live multi-worker gunicorn from the next request on: no worker keeps a copy of the keys."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest

from tests.reliability.support import ROOT, gunicorn

WORKERS = 3
BURST = 60  # requests, 12 at a time: every sync worker serves some of them


def silkway(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SILKWAY_DATABASE_URL": db_url, "SILKWAY_LOG_LEVEL": "ERROR"}
    command = [sys.executable, "-m", "web.cli", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def status(base: str, key: str) -> int:
    request = Request(base + "/api/v1/parcels", headers={"Authorization": f"Bearer {key}"})
    try:
        with urlopen(request, timeout=10) as resp:
            return int(resp.status)
    except HTTPError as exc:
        assert exc.headers.get("Content-Type") == "application/problem+json"
        return int(exc.code)


def burst(base: str, key: str) -> list[int]:
    with ThreadPoolExecutor(12) as pool:
        return list(pool.map(lambda _: status(base, key), range(BURST)))


@pytest.mark.slow
def test_every_worker_refuses_a_key_as_soon_as_the_cli_revokes_or_rotates_it(db_url: str) -> None:
    created = silkway(db_url, "keys", "create", "--role", "merchant", "--merchant", "Live Shop")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    other = silkway(db_url, "keys", "create", "--role", "merchant", "--merchant", "Live Shop")
    assert other.returncode == 0, other.stderr
    rotating = other.stdout.strip().splitlines()[-1]
    with gunicorn(db_url, workers=WORKERS) as server:
        assert set(burst(server.base, key)) == {200}
        assert set(burst(server.base, rotating)) == {200}

        revoked = silkway(db_url, "keys", "revoke", key[:12])
        assert revoked.returncode == 0, revoked.stderr
        started = time.monotonic()
        assert set(burst(server.base, key)) == {401}
        assert time.monotonic() - started < 10

        rotated = silkway(db_url, "keys", "rotate", rotating[:12], "--grace", "0")
        assert rotated.returncode == 0, rotated.stderr
        successor = rotated.stdout.strip().splitlines()[-1]
        assert set(burst(server.base, rotating)) == {401}
        assert set(burst(server.base, successor)) == {200}

    listed = silkway(db_url, "keys", "list", "--all")
    assert listed.returncode == 0, listed.stderr
    rows = {line.split()[0]: line for line in listed.stdout.splitlines()[1:]}
    assert "revoked at" in rows[key[:12]] and "active" in rows[successor[:12]]
    assert rows[successor[:12]].count("Z") >= 2  # created, and last used by the burst
