"""Long-running commands: ``silkway scheduler`` and ``silkway serve-demo`` (gunicorn + scheduler + live)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.request import urlopen

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from tracking import models
from tracking.db import read_only
from web.db import database
from web.scheduler import serve

ROOT = Path(__file__).resolve().parents[1]


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


def example_parcels(limit: int = 2) -> dict[str, list[str]]:
    """Tracking numbers of a few interesting parcels by kind, for the demo's start banner.

    It reads in a session of its own, closed before it returns: ``serve-demo`` keeps its app context
    (and so the ``g`` session of get_session()) for as long as it serves, and a transaction left open
    there would hold SQLite's write lock against the scheduler and live mode until Ctrl-C.
    """
    kinds = {
        "delivered": models.Parcel.status == "delivered",
        "at customs": models.Parcel.substatus.in_(["customs_processing", "customs_held"]),
        "out for delivery": models.Parcel.status.in_(["out_for_delivery", "available_for_pickup"]),
        "returned or lost": models.Parcel.status == "exception",
        "in transit": models.Parcel.status == "in_transit",
    }
    out: dict[str, list[str]] = {}
    with database().session() as session:
        read_only(session)
        for label, condition in kinds.items():
            query = (
                select(models.Identifier.number)
                .join(models.Parcel, models.Parcel.id == models.Identifier.parcel_id)
                .where(condition)
                .order_by(models.Parcel.updated_at.desc())
                .limit(limit)
            )
            out[label] = list(session.scalars(query))
    return out


@click.command("serve-demo")
@click.option("--bind", default="127.0.0.1:8000", show_default=True)
@click.option("--workers", default=2, show_default=True)
@click.option("--live/--no-live", default=True, show_default=True, help="keep new scans arriving")
@with_appcontext
def serve_demo_command(bind: str, workers: int, live: bool) -> None:
    """Serve the app with gunicorn, run the scheduler, and keep the demo world alive until Ctrl-C."""
    env = {**os.environ, "SILKWAY_DATABASE_URL": current_app.extensions["silkway.db"].url}
    children = [
        subprocess.Popen(gunicorn_command(bind, workers), cwd=ROOT, env=env),
        subprocess.Popen([sys.executable, "-m", "web.cli", "scheduler"], cwd=ROOT, env=env),
    ]
    base = f"http://{bind}"
    stop = threading.Event()
    _stop_on_signals(stop)
    try:
        _wait_until_up(base, children[0])
        click.echo(f"\nSilkway is serving the demo world at {base}/  (Ctrl-C stops it)")
        click.echo(f"  API documentation: {base}/api/openapi.json")
        for label, numbers in example_parcels().items():
            for number in numbers:
                click.echo(f"  {label:17} {base}/track/{number}")
        if live:
            _run_live(base, stop)
        stop.wait()
    finally:
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()


def _wait_until_up(base: str, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if proc.poll() is not None:
            raise click.ClickException("gunicorn exited; see its log above")
        try:
            with urlopen(base + "/healthz", timeout=1):  # noqa: S310 - loopback URL we built
                return
        except OSError:
            time.sleep(0.1)
    raise click.ClickException(f"the server at {base} did not come up")


def _run_live(base: str, stop: threading.Event) -> None:
    try:
        from web.demo.live import run_live
    except ImportError:
        click.echo("  (live mode unavailable: the demo world simulator is not installed)", err=True)
        return
    url = current_app.extensions["silkway.db"].url
    keys = Path("instance") / "demo-keys.json"
    if not keys.exists():
        click.echo(f"  (live mode off: {keys} is missing; build the world first with silkway demo)", err=True)
        return
    thread = threading.Thread(target=run_live, args=(base, url, 7, stop), daemon=True, name="demo-live")
    thread.start()
    click.echo("  new scans arrive every few seconds; reload a tracking page to see them")
