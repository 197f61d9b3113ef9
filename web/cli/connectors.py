"""``silkway connectors list|run``: which tracking services are on, and the numbers they owe or were sent."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from tracking.connectors import STATES, state_counts
from tracking.types import utcnow
from web.connectors.drain import connectors_job
from web.connectors.settings import configured
from web.db import get_session


@click.group("connectors")
def connectors_group() -> None:
    """Tracking services numbers are registered with (17TRACK; docs/connectors.md)."""


@connectors_group.command("list")
@with_appcontext
def connectors_list() -> None:
    """The connectors switched on (from SILKWAY_* settings) and their numbers by state and call owed."""
    counts = state_counts(get_session())
    on = configured(current_app.config)
    if not on and not counts:
        click.echo("no connector is on: set SILKWAY_TRACK17_API_KEY to register numbers with 17TRACK")
        return
    names = [c.name for c in on] + sorted(set(counts) - {c.name for c in on})
    urls = {c.name: c.url for c in on}
    for name in names:
        found = counts.get(name, {})
        states = " ".join(f"{state}={found.get(state, 0)}" for state in STATES)
        owed = " ".join(f"{k}={v}" for k, v in sorted(found.items()) if k.startswith("owes_"))
        where = urls.get(name, "off (no key set)")
        click.echo(f"{name}: {where} {states} {owed}".rstrip())


@connectors_group.command("run")
@with_appcontext
def connectors_run() -> None:
    """Drain the connectors' outbox once now (what the scheduler's job connectors does each tick)."""
    results = connectors_job(current_app._get_current_object(), utcnow())  # type: ignore[attr-defined]
    if not results:
        click.echo("no connector is on: set SILKWAY_TRACK17_API_KEY to register numbers with 17TRACK")
    for result in results:
        click.echo(result.summary())
