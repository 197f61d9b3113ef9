"""A live gunicorn: several workers on memory:// are refused or warned about, Redis holds the budget of
unknown numbers across workers, and an over-long API target is the app's own 414 problem+json."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
import pytest

from tests.reliability.support import ROOT, free_port, get, gunicorn
from web.access.request_target import MAX_TARGET_BYTES
from web.worker.serve import gunicorn_command

REDIS_URL = os.environ.get("SILKWAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
WARNING = "rate limits are counted per worker"


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "silkway.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


def _limited_env(**extra: str) -> dict[str, str]:
    return {"SILKWAY_RATELIMIT_ENABLED": "true", "SILKWAY_RATELIMIT_STORAGE_URI": "memory://", **extra}


def test_two_workers_on_memory_are_refused_with_the_real_budgets(sqlite_url, tmp_path):
    env = {
        **os.environ,
        "SILKWAY_DATABASE_URL": sqlite_url,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        **_limited_env(SILKWAY_RATELIMIT_MISSES="30/minute"),
    }
    env.pop("SILKWAY_RATELIMIT_ALLOW_PER_WORKER", None)
    cmd = gunicorn_command(f"127.0.0.1:{free_port()}", 2)
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode != 0
    assert "RATELIMIT_MISSES 60/minute (configured 30/minute)" in done.stderr
    assert "SILKWAY_RATELIMIT_ALLOW_PER_WORKER=true" in done.stderr


def test_two_workers_allowed_on_memory_warn_in_the_master_and_every_worker(sqlite_url, tmp_path):
    log = tmp_path / "gunicorn.log"
    env = _limited_env(SILKWAY_RATELIMIT_ALLOW_PER_WORKER="true", SILKWAY_RATELIMIT_MISSES="30/minute")
    args = ["--log-level", "warning"]
    with gunicorn(sqlite_url, workers=2, extra_env=env, args=args, log_path=log) as server:
        workers = server.wait_for_workers(2)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and log.read_text().count(WARNING) < 3:
            time.sleep(0.1)
        text = log.read_text()
    lines = [line for line in text.splitlines() if WARNING in line]
    assert len(lines) >= 3, text  # the master and each of the two workers
    real = "RATELIMIT_MISSES 60/minute (configured 30/minute)"
    assert all("[WARNING]" in line and real in line for line in lines)
    assert {int(pid) for pid in re.findall(r"worker (\d+):", text)} >= set(workers)


def test_redis_holds_the_budget_of_unknown_numbers_across_two_workers(sqlite_url, tmp_path):
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    log = tmp_path / "access.log"
    env = {
        "SILKWAY_RATELIMIT_ENABLED": "true",
        "SILKWAY_RATELIMIT_STORAGE_URI": REDIS_URL,
        "SILKWAY_RATELIMIT_KEY_PREFIX": f"silkway-live-{uuid.uuid4().hex}",
        "SILKWAY_RATELIMIT_MISSES": "10/minute",
        "SILKWAY_RATELIMIT_PUBLIC": "1000/minute",
        "SILKWAY_ACCESS_LOG": "1",
    }
    args = ["--access-logformat", "pid=%(p)s status=%(s)s"]
    with gunicorn(sqlite_url, workers=2, extra_env=env, args=args, log_path=log) as server:
        paths = [f"/api/v1/parcels/LP{i:014d}" for i in range(20)]
        paths += [f"/track/LP{i:014d}" for i in range(20, 25)]
        paths += ["/track?numbers=" + ",".join(f"LP{i:014d}" for i in range(j, j + 2)) for j in (30, 40)]
        paths += [f"/api/v1/parcels/LP{i:014d}/eta" for i in range(50, 53)]
        with ThreadPoolExecutor(max_workers=8) as pool:  # each its own connection, so both workers serve
            answers = list(pool.map(lambda path: get(server.base + path)[0], paths))
        misses = answers.count(404) + 2 * answers.count(200)  # each several-numbers page held two
        assert misses <= 10 and set(answers) <= {200, 404, 429}, answers
        assert answers.count(429) >= len(paths) - 10
        time.sleep(0.5)
    pids = set(re.findall(r"pid=<(\d+)>", log.read_text()))
    assert len(pids) == 2, "both workers must have answered for the test to mean anything"


def test_an_over_long_api_target_through_gunicorn_is_the_apps_414_problem(sqlite_url):
    with gunicorn(sqlite_url, workers=1) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        try:
            for length in (MAX_TARGET_BYTES + 1, 8000):  # both beyond gunicorn's default 4,094
                conn.request("GET", "/api/v1/parcels/" + "A" * length)
                resp = conn.getresponse()
                body = resp.read()
                assert resp.status == 414
                assert resp.getheader("Content-Type") == "application/problem+json"
                assert f"{MAX_TARGET_BYTES} bytes" in orjson.loads(body)["detail"]
                conn.close()
        finally:
            conn.close()
        status, _, content_type = get(server.base + "/api/v1/tracking-numbers/RX747628194CN?x=" + "1" * 3900)
        assert status == 200 and content_type.startswith("application/json")
