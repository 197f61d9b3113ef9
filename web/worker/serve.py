"""Long-running commands: ``silkway scheduler`` and ``silkway serve-demo`` (gunicorn + scheduler + live)."""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.request import urlopen

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from tracking import models
from tracking.db import read_only
from tracking.events import as_utc
from web.db import database
from web.worker.scheduler import serve

ROOT = Path(__file__).resolve().parents[2]
KEYS_PATH = Path("instance") / "demo-keys.json"  # written by `silkway demo`, read by live mode


def gunicorn_command(bind: str, workers: int, *options: str) -> list[str]:
    """The command that serves ``wsgi:app`` with the project's gunicorn.conf.py (serve-demo, the
    reliability tests and the benchmarks all start it this way); run it with ``cwd=ROOT``."""
    config = str(ROOT / "gunicorn.conf.py")
    return [sys.executable, "-m", "gunicorn", "-c", config, "--bind", bind, "--workers", str(workers),
            *options, "wsgi:app"]


def _stop_on_signals(stop: threading.Event) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())


@click.command("scheduler")
@click.option("--poll", default=5.0, show_default=True, help="seconds between leadership checks")
@with_appcontext
def scheduler_command(poll: float) -> None:
    """Run the scheduler process; only one is active per database, the others stand by."""
    stop = threading.Event()
    _stop_on_signals(stop)
    serve(current_app._get_current_object(), stop, poll_seconds=poll)  # type: ignore[attr-defined]


DEFAULT_BIND = "127.0.0.1:8000"
WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # noqa: S104 - read, never bound
READY_SECONDS = 90.0  # gunicorn answering /readyz
SETTLE_SECONDS = 180.0  # the scheduler's first ticks (learning the ETA model is the long one) and live mode


@dataclass(frozen=True, slots=True)
class Address:
    """Where serve-demo listens (``host:port`` for gunicorn) and the URL this machine reaches it at."""

    host: str
    port: int

    @property
    def bind(self) -> str:
        """``host:port`` as gunicorn's --bind takes it (IPv6 hosts in brackets)."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def wildcard(self) -> bool:
        """Listening on every interface (0.0.0.0 or ::): the links then use loopback."""
        return self.host in WILDCARDS

    @property
    def url(self) -> str:
        """``http://host:port``: what the banner prints and the live feed and health checks use."""
        host = WILDCARDS.get(self.host, self.host)
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"


def parse_bind(text: str) -> Address:
    """``HOST:PORT`` (``[v6]:PORT`` for IPv6) as an Address; a ValueError says what is wrong."""
    value = text.strip()
    if value.startswith(("unix:", "fd://", "/")):
        raise ValueError(f"{text!r} is a socket, not HOST:PORT: the demo serves TCP (e.g. 127.0.0.1:8080)")
    if value.startswith("["):
        host, sep, port = value[1:].partition("]:")
    else:
        host, sep, port = value.rpartition(":")
        if ":" in host:
            raise ValueError(f"{text!r}: write an IPv6 address in brackets, e.g. [::1]:8080")
    if not sep:
        raise ValueError(f"{text!r} is not HOST:PORT (e.g. 127.0.0.1:8080)")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"{text!r}: the port must be a number from 1 to 65535, not {port!r}")
    if any(c.isspace() or c in "/?#@" for c in host):
        raise ValueError(f"{text!r}: {host!r} is not a host name or address")
    return Address(host, int(port))


def check_free(address: Address) -> None:
    """Fail with a message saying why when ``address`` cannot be listened on (in use, not ours, no rights)."""
    host = address.host or "0.0.0.0"  # noqa: S104 - only when the bind names no host
    try:
        infos = socket.getaddrinfo(host, address.port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        problem = f"cannot serve at {address.bind}: unknown host {host!r} ({exc.strerror})"
        raise click.ClickException(problem) from None
    for family, kind, proto, _, where in infos:
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
            try:
                sock.bind(where)
            except OSError as exc:
                raise click.ClickException(_bind_problem(address, exc)) from None


def _bind_problem(address: Address, exc: OSError) -> str:
    other = address.port + 1 if address.port < 65535 else 8080
    pick = f"pick another port: make demo PORT={other}, or silkway serve-demo --port {other}"
    if exc.errno == errno.EADDRINUSE:
        return f"{address.bind} is already in use (another demo or server?); {pick}"
    if exc.errno == errno.EACCES:
        return f"no permission to listen on {address.bind} (ports below 1024 need root); {pick}"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {address.bind}: {address.host} is not an address of this machine"
    return f"cannot listen on {address.bind}: {exc.strerror or exc}"


def _address(ctx: click.Context, bind: str, port: str | None) -> Address:
    from_env = ctx.get_parameter_source("bind") == click.core.ParameterSource.ENVIRONMENT
    try:
        address = parse_bind(bind)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="SILKWAY_BIND" if from_env else "'--bind'") from None
    if port is None:
        return address
    if not port.strip().isdigit() or not 1 <= int(port) <= 65535:
        problem = f"the port must be a number from 1 to 65535, not {port!r}"
        raise click.BadParameter(problem, param_hint="'--port'")
    return Address(address.host, int(port))


@click.command("serve-demo")
@click.option(
    "--bind",
    envvar="SILKWAY_BIND",
    default=DEFAULT_BIND,
    show_default=True,
    show_envvar=True,
    metavar="HOST:PORT",
    help="where to listen",
)
@click.option("--port", metavar="PORT", help="listen on this port (1-65535), on the host of --bind")
@click.option("--workers", default=2, show_default=True)
@click.option("--live/--no-live", default=True, show_default=True, help="keep new scans arriving")
@click.option("--check", is_flag=True, help="only check that the address can be listened on, then exit")
@click.pass_context
@with_appcontext
def serve_demo_command(
    ctx: click.Context, bind: str, port: str | None, workers: int, live: bool, check: bool
) -> None:
    """Serve the app with gunicorn, run the scheduler, and keep the demo world alive until Ctrl-C.

    Once the server answers and the start-up has settled (the scheduler's first runs, live mode's first
    round), it prints one banner with links to parcels of every kind, the dashboard and the API docs.
    """
    address = _address(ctx, bind, port)
    check_free(address)
    if check:
        click.echo(f"{address.bind} is free: the demo will be at {address.url}/")
        return
    env = {**os.environ, "SILKWAY_DATABASE_URL": current_app.extensions["silkway.db"].url}
    # A demo on one machine may count rate limits per worker (memory://): gunicorn.conf.py then warns
    # instead of refusing to start (web/access/limit_storage.py).
    env.setdefault("SILKWAY_RATELIMIT_ALLOW_PER_WORKER", "true")
    began = datetime.now(UTC)
    children = [
        subprocess.Popen(gunicorn_command(address.bind, workers), cwd=ROOT, env=env),
        subprocess.Popen([sys.executable, "-m", "web.cli", "scheduler"], cwd=ROOT, env=env),
    ]
    base = address.url
    stop = threading.Event()
    _stop_on_signals(stop)
    try:
        _wait_until_ready(base, children[0], stop)
        notes: list[str] = []
        started = _run_live(base, stop, notes) if live else None
        notes += _wait_until_settled(began, children[1], started, stop)
        if stop.is_set():
            return
        _print_banner(address, notes)
        stop.wait()
    finally:
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()


def _print_banner(address: Address, notes: list[str]) -> None:
    from web.worker.banner import as_text, banner, example_parcels, merchant_key

    examples, absent = example_parcels()
    listening = address.bind if address.wildcard else None
    lines = banner(address.url, examples, absent, merchant_key(KEYS_PATH), KEYS_PATH, notes, listening)
    sys.stdout.write(as_text(lines))
    sys.stdout.flush()


def _wait_until_ready(base: str, proc: subprocess.Popen[bytes], stop: threading.Event) -> None:
    """Until /readyz answers 200: gunicorn is up and its workers reach the database."""
    deadline = time.monotonic() + READY_SECONDS
    while not stop.is_set():
        if proc.poll() is not None:
            raise click.ClickException("gunicorn exited; see its log above")
        try:
            with urlopen(base + "/readyz", timeout=2) as resp:  # noqa: S310 - the URL we serve at
                if resp.status == 200:
                    return
        except OSError:  # not listening yet, or 503 (HTTPError) while the database is away
            pass
        if time.monotonic() > deadline:
            raise click.ClickException(f"the server at {base} did not answer /readyz in {READY_SECONDS:.0f}s")
        stop.wait(0.2)


def _wait_until_settled(
    began: datetime,
    scheduler: subprocess.Popen[bytes],
    live: tuple[threading.Thread, threading.Event] | None,
    stop: threading.Event,
) -> list[str]:
    """Until the scheduler has run each job's first tick and live mode its first round; notes otherwise."""
    from web.worker.scheduler import default_jobs

    jobs = {job.name: int(began.timestamp()) // job.seconds for job in default_jobs(current_app)}
    deadline = time.monotonic() + SETTLE_SECONDS
    pending = dict(jobs)
    while not stop.is_set():
        pending = {name: tick for name, tick in pending.items() if not _tick_done(name, tick, began)}
        live_done = live is None or live[1].is_set() or not live[0].is_alive()
        if not pending and live_done:
            return []
        if scheduler.poll() is not None:
            return ["  the scheduler exited; see its log above"]
        if time.monotonic() > deadline:
            waiting = ", ".join(sorted(pending)) or "live mode's first round"
            return [f"  (still starting after {SETTLE_SECONDS:.0f} s: {waiting}; their logs may follow)"]
        stop.wait(0.5)
    return []


def _tick_done(job: str, first_tick: int, began: datetime) -> bool:
    """This start's run of ``job`` has ended, or its tick had been claimed before (so it will not run now)."""
    with database().session() as session:
        read_only(session)
        rows = session.execute(
            select(models.JobTick.status, models.JobTick.started_at)
            .where(models.JobTick.job == job, models.JobTick.tick >= first_tick)
        ).all()
    return any(status != "running" or as_utc(started) < began for status, started in rows)


def _run_live(
    base: str, stop: threading.Event, notes: list[str]
) -> tuple[threading.Thread, threading.Event] | None:
    """Start live mode against ``base``: its thread and the event set after its first round."""
    try:
        from web.demo.live import run_live
    except ImportError:
        notes.append("  (live mode unavailable: the demo world simulator is not installed)")
        return None
    url = current_app.extensions["silkway.db"].url
    if not KEYS_PATH.exists():
        notes.append(f"  (live mode off: {KEYS_PATH} is missing; build the world first with silkway demo)")
        return None
    started = threading.Event()
    thread = threading.Thread(
        target=run_live, args=(base, url, 7, stop), kwargs={"started": started}, daemon=True, name="demo-live"
    )
    thread.start()
    notes.append("  new scans arrive every few seconds; reload a tracking page to see them")
    return thread, started
