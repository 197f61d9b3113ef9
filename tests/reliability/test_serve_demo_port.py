"""`silkway serve-demo` on a port of its own (`--port`, `SILKWAY_BIND`), as `make demo PORT=…` runs it: it
answers there, the live feed posts there, and it prints one banner, after the start-up logs, whose links
are full URLs of that port that answer."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.reliability.support import free_port, get
from tests.reliability.test_serve_demo_sqlite import _run, _wait_for
from web.worker.banner import KINDS

BANNER = "Silkway is serving the demo world at"
RULE = "-" * 78


@pytest.fixture(scope="module")
def small_world(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Path:
    """A 10-day world built by `silkway demo` (no ETA model stored yet, as after `make demo`'s build)."""
    root = tmp_path_factory.mktemp("world")
    (root / "instance").mkdir()
    shutil.copy(sqlite_template, root / "instance" / "silkway.db")
    env = _env(root)
    build = _run(["demo", "--days", "10", "--seed", "7", "--parcels-per-day", "25"], root, env,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert build.wait(timeout=300) == 0
    assert (root / "instance" / "demo-keys.json").exists(), "silkway demo did not build the world"
    return root


def _env(root: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SILKWAY_BIND", "PORT")}
    return {
        **env,
        "SILKWAY_DATABASE_URL": f"sqlite:///{root / 'instance' / 'silkway.db'}",
        "SILKWAY_RATELIMIT_ENABLED": "false",
        **extra,
    }


@contextmanager
def serve_demo(world: Path, tmp_path: Path, args: list[str], **env: str) -> Iterator[tuple[Path, Path]]:
    """serve-demo on a copy of the world; yields (its output file, the copy's folder); SIGINT afterwards."""
    root = tmp_path / "demo"
    shutil.copytree(world, root)
    metrics = tempfile.mkdtemp(prefix="silkway-rel-metrics-")
    log = tmp_path / "serve-demo.log"
    with log.open("wb") as out:
        env = _env(root, PROMETHEUS_MULTIPROC_DIR=metrics, **env)
        proc = _run(["serve-demo", "--workers", "1", *args], root, env,
                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_for(proc, log, RULE.encode() + b"\n", timeout=120)  # the banner's first rule
        _wait_for(proc, log, b"OpenAPI document", timeout=10)
        deadline = time.monotonic() + 10
        while log.read_text().count(RULE) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        yield log, root
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        shutil.rmtree(metrics, ignore_errors=True)


def _banner(output: str) -> tuple[str, str]:
    """(what came before the banner, the banner)."""
    start = output.index(RULE)
    end = output.index(RULE, start + len(RULE))
    return output[:start], output[start : end + len(RULE)]


def _links(banner: str) -> list[str]:
    return re.findall(r"https?://[^\s)]+", banner)


def _signs_in(base: str, key: str, merchant: str) -> bool:
    """Sign in to the dashboard over HTTP with ``key``, as a browser would (cookie and CSRF token)."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with opener.open(base + "/dashboard/login", timeout=10) as resp:
        token = re.search(r'name="csrf_token" value="([^"]+)"', resp.read().decode())
    assert token, "the login form carries its CSRF token"
    form = urllib.parse.urlencode({"key": key, "csrf_token": token.group(1)}).encode()
    with opener.open(base + "/dashboard/login", data=form, timeout=10) as resp:
        return resp.status == 200 and resp.url.endswith("/dashboard") and merchant in resp.read().decode()


@pytest.mark.slow
def test_serve_demo_on_another_port_answers_there_and_prints_one_banner_of_its_links(
    small_world: Path, tmp_path: Path
) -> None:
    port = free_port()
    assert port != 8000
    base = f"http://127.0.0.1:{port}"
    with serve_demo(small_world, tmp_path, ["--port", str(port)]) as (log, root):
        assert get(base + "/readyz")[0] == 200
        before, banner = _banner(log.read_text())
        links = _links(banner)
        assert links and all(link.startswith(base + "/") for link in links), banner
        assert sum("/track/" in link for link in links) >= 3, banner
        for link in links:
            assert get(link, timeout=30)[0] == 200, link
        # Every kind is shown with a link, or named as absent.
        absent = re.search(r"none in this world yet: (.*)", banner)
        named = absent.group(1).split(", ") if absent else []
        for kind in KINDS:
            shown = re.search(rf"^  {re.escape(kind.label)}\s+{re.escape(base)}/track/\S+", banner, re.M)
            assert bool(shown) != (kind.label in named), (kind.label, banner)
        # The dashboard's sign-in key is a real one.
        key = re.search(r"sign in with the key of (.+): (sw_mer_\S+)", banner)
        assert key, banner
        keys = json.loads((root / "instance" / "demo-keys.json").read_text())
        assert key.group(2) in keys["merchants"].values()
        assert _signs_in(base, key.group(2), key.group(1))
        # After the start-up: the scheduler's first runs (the model first, then the revisions with it) and
        # live mode's first round are logged before the banner.
        for line in ("this scheduler is active", "learned ETA model", "ETA revisions (model", "world live"):
            assert line in before, line
        assert "ETA revisions (model prior)" not in before
        time.sleep(4)  # a live round or two later
        output = log.read_text()
    assert output.count(BANNER) == 1
    assert "127.0.0.1:8000" not in output
    assert "server unreachable" not in output


@pytest.mark.slow
def test_serve_demo_listens_where_silkway_bind_says(small_world: Path, tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with serve_demo(small_world, tmp_path, [], SILKWAY_BIND=f"127.0.0.1:{port}") as (log, root):
        assert get(base + "/readyz")[0] == 200
        _, banner = _banner(log.read_text())
        assert f"{BANNER} {base}/" in banner
        links = _links(banner)
        assert links and all(link.startswith(base + "/") for link in links), banner
        track = next(link for link in links if "/track/" in link)
        assert get(track)[0] == 200
        keys = json.loads((root / "instance" / "demo-keys.json").read_text())
        pushed = keys["pushed_until"]
        # Live mode posts its scans to that address: each round moves the world on.
        deadline = time.monotonic() + 30
        while json.loads((root / "instance" / "demo-keys.json").read_text())["pushed_until"] == pushed:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        output = log.read_text()
    assert output.count(BANNER) == 1
    assert "server unreachable" not in output
