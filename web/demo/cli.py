"""``silkway demo``: build a reproducible demo world into the configured database."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
from flask.cli import ScriptInfo

from web.demo import state
from web.demo.build import AlreadyBuilt, BuildReport, DemoError, build, ticks
from web.demo.world import MAX_PARCELS_PER_DAY

MAX_DAYS = 730


def _moment(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time", param_hint="--now") from None
    if moment.tzinfo is None:
        raise click.BadParameter(
            "give the time with a UTC offset, e.g. 2026-11-25T12:00:00+00:00", param_hint="--now"
        )
    if moment > datetime.now(UTC):
        raise click.BadParameter("the world cannot end in the future", param_hint="--now")
    return moment.astimezone(UTC)


@click.command("demo")
@click.option(
    "--days",
    type=click.IntRange(1, MAX_DAYS),
    default=90,
    show_default=True,
    help="how many days of traffic, ending now",
)
@click.option("--seed", type=int, default=7, show_default=True, help="the same seed builds the same world")
@click.option(
    "--parcels-per-day",
    type=click.IntRange(1, MAX_PARCELS_PER_DAY),
    default=60,
    show_default=True,
    help="orders on an ordinary day (11.11 brings 3-5 times more)",
)
@click.option("--now", "now_text", metavar="ISO-TIME", help="when the world ends (default: now)")
@click.option(
    "--keys-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=state.DEFAULT_PATH,
    show_default=True,
    help="where the demo's carrier and merchant keys are kept (mode 0600)",
)
@click.pass_context
def demo_command(
    ctx: click.Context, days: int, seed: int, parcels_per_day: int, now_text: str | None, keys_file: Path
) -> None:
    """Build the demo world: Chinese merchants, Russian shoppers, carriers pushing their native feeds."""
    now = _moment(now_text)
    app = ctx.ensure_object(ScriptInfo).load_app()
    steps = ticks(days, now)
    try:
        with click.progressbar(length=steps, label="simulating days", file=sys.stderr, show_pos=True) as bar:
            report = build(
                app,
                days=days,
                seed=seed,
                parcels_per_day=parcels_per_day,
                now=now,
                keys_path=keys_file,
                progress=bar.update,
            )
    except AlreadyBuilt as exc:
        click.echo(str(exc))
        return
    except DemoError as exc:
        raise click.ClickException(str(exc)) from None
    _print_summary(report, keys_file)
    if report.stats.errors:
        sys.exit(1)


def _print_summary(report: BuildReport, keys_file: Path) -> None:
    stats = report.stats
    rate = stats.events_sent / report.seconds if report.seconds else 0.0
    click.echo(
        f"demo world (seed {report.seed}) built up to {report.now.isoformat()} in {report.seconds:.1f} s"
    )
    click.echo(f"parcels: {report.parcels}")
    click.echo(
        f"events: sent={stats.events_sent} stored={report.stored_events} accepted={stats.accepted} "
        f"duplicates={stats.duplicates} (deliberate {stats.deliberate_duplicates}) rejected={stats.rejected} "
        f"payloads={stats.payloads} ({rate:.0f} events/s)"
    )
    click.echo("by status: " + ", ".join(f"{k}={v}" for k, v in sorted(report.statuses.items())))
    click.echo("truth: " + ", ".join(f"{k}={v}" for k, v in sorted(report.fates.items())))
    click.echo(f"merchants: registered={report.registered} quotes={report.quotes}")
    for endpoint in report.missing_endpoints:
        click.echo(f"skipped (not served by this app): {endpoint}")
    click.echo(f"keys for live mode: {keys_file}")
    click.echo("examples:")
    for label, number in report.examples.items():
        click.echo(f"  {label}: /track/{number}")
    for line in stats.errors[:20]:
        click.echo(f"error: {line}", err=True)
