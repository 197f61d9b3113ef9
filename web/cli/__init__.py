"""The ``silkway`` command: database, keys, imports, demo, scheduler and ETA commands."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import ScriptInfo, with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from carriers import ADAPTERS, BUILT_IN_FORMATS
from tracking import models, schema
from tracking.accounts import AccountError, create_key, ensure_carrier, ensure_merchant
from web.cli.params import CARRIER_CODE, aware_option
from web.db import commit_unit, database, get_session, unit_of_work
from web.ingestion import BatchRejected, Outcome, PayloadUnreadable, accept_payload
from web.places import resolver


def _create_app() -> Flask:
    from web import create_app

    return create_app()


class SilkwayGroup(click.Group):
    """A plain click group of Silkway's commands, each run inside the app's context.

    Unlike Flask's FlaskGroup it adds none of Flask's own commands (``run``, ``shell``, ``routes``) or
    options (``--app``, ``--env-file``, ``--debug``), no other package's ``flask.commands`` plugins, and
    never looks for ``.env`` files. The app is the one of the ScriptInfo in ``ctx.obj``:
    ``app.test_cli_runner()`` passes its app that way, and otherwise the group makes one with
    create_app(), only when a command runs (``--help`` makes none).
    """

    _commands_added = False

    def _add_commands(self) -> None:
        # commands() imports modules that import this one, so the group gets them on first use.
        if not self._commands_added:
            self._commands_added = True
            for command in commands():
                self.add_command(command)
            # The rate limits' own commands (limiter config|limits|clear), a plugin under FlaskGroup.
            from flask_limiter.commands import cli as limiter_group

            self.add_command(limiter_group, "limiter")

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._add_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._add_commands()
        return super().get_command(ctx, cmd_name)

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        if "obj" not in extra and "obj" not in self.context_settings:
            extra["obj"] = ScriptInfo(create_app=_create_app, load_dotenv_defaults=False)
        return super().make_context(info_name, args, parent=parent, **extra)


@click.group(cls=SilkwayGroup)
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Silkway: parcel tracking and delivery-time prediction for the China to Russia corridor."""
    # Runs before the command does: every command (and group of commands) has the app's context.
    app = ctx.ensure_object(ScriptInfo).load_app()
    if not current_app or current_app._get_current_object() is not app:  # type: ignore[attr-defined]
        ctx.with_resource(app.app_context())


@click.group("db")
def db_group() -> None:
    """Database schema commands."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Create or migrate the schema at SILKWAY_DATABASE_URL."""
    db = database()
    schema.upgrade(db.engine, revision)
    click.echo(f"schema at {db.engine.url.render_as_string(hide_password=True)} is at {revision}")


@click.group("keys")
def keys_group() -> None:
    """API key commands."""


@keys_group.command("create")
@click.option("--role", type=click.Choice(["carrier", "merchant", "operator"]), required=True)
@click.option(
    "--carrier", "carrier_code", type=CARRIER_CODE, help="carrier code (role carrier), e.g. acme-express"
)
@click.option("--merchant", "merchant_name", help="merchant name (role merchant)")
@click.option("--format", "fmt", type=click.Choice(sorted(ADAPTERS)), help="feed format of a new carrier")
@click.option("--label", help="a note to recognise the key by")
@with_appcontext
def keys_create(
    role: str, carrier_code: str | None, merchant_name: str | None, fmt: str | None, label: str | None
) -> None:
    """Create an API key; it is printed once, alone on the last line."""
    session = get_session()

    new_merchant = False

    def create() -> tuple[str, models.Carrier | None, models.Merchant | None]:
        nonlocal new_merchant
        carrier = merchant = None
        if role == "carrier":
            if not carrier_code:
                raise AccountError("--role carrier needs --carrier CODE")
            carrier = ensure_carrier(
                session, carrier_code, fmt or BUILT_IN_FORMATS.get(carrier_code, "canonical")
            )
            if fmt and carrier.format != fmt:
                carrier.format = fmt
        elif role == "merchant":
            if not merchant_name:
                raise AccountError("--role merchant needs --merchant NAME")
            known = session.scalar(
                select(models.Merchant.id).where(models.Merchant.name == merchant_name.strip())
            )
            new_merchant = known is None
            merchant = ensure_merchant(session, merchant_name)
        return create_key(session, role, carrier=carrier, merchant=merchant, label=label), carrier, merchant

    try:
        key, carrier, merchant = commit_unit(session, create)
    except AccountError as exc:
        raise click.UsageError(str(exc)) from None
    owner = f" for carrier {carrier.code} ({carrier.format})" if carrier else ""
    owner += f" for merchant {merchant.name}" if merchant else ""
    if merchant is not None and new_merchant:
        click.echo(f"created a new merchant {merchant.name!r} (id {merchant.id})", err=True)
    elif merchant is not None:
        click.echo(f"adding a key to the existing merchant {merchant.name!r} (id {merchant.id})", err=True)
    click.echo(f"created a {role} key{owner}; store it now, it is not shown again:", err=True)
    click.echo(key)


@click.command("import")
@click.option(
    "--carrier",
    "carrier_code",
    type=CARRIER_CODE,
    required=True,
    help="the carrier whose feed files these are",
)
@click.option(
    "--partial/--atomic",
    default=True,
    show_default=True,
    help="store the valid items of a file with invalid ones, or reject the whole file",
)
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@with_appcontext
def import_files(carrier_code: str, partial: bool, files: tuple[Path, ...]) -> None:
    """Ingest native feed files of a carrier, with a progress bar and a summary."""
    from sqlalchemy import select

    session = get_session()
    carrier = session.scalar(select(models.Carrier).where(models.Carrier.code == carrier_code))
    if carrier is None:
        known = ", ".join(session.scalars(select(models.Carrier.code))) or "none"
        raise click.UsageError(
            f"unknown carrier {carrier_code!r} (known: {known}); "
            f"register it with silkway keys create --role carrier --carrier {carrier_code}"
        )
    totals = {"accepted": 0, "duplicates": 0, "rejected": 0, "ignored": 0}
    failed: list[str] = []
    notes: list[str] = []
    with click.progressbar(files, label="importing", file=sys.stderr, show_pos=True) as bar:
        for path in bar:
            try:
                outcome = _import_file(session, carrier, path, partial)
            except (PayloadUnreadable, BatchRejected) as exc:
                failed.append(f"{path}: {exc}")
                continue
            totals["accepted"] += outcome.accepted
            totals["duplicates"] += outcome.duplicates
            totals["rejected"] += len(outcome.rejected)
            totals["ignored"] += outcome.ignored
            for error in outcome.rejected:
                failed.append(f"{path}: item {error.index}: {error.error}")
            for notice in outcome.notices:
                notes.append(
                    f"{path}: item {notice.index}: {notice.tracking_number}: carrier answered "
                    f"{notice.code} ({notice.reason}); ignored"
                )
    click.echo(" ".join(f"{k}={v}" for k, v in totals.items()) + f" files={len(files)}")
    for line in notes + failed:
        click.echo(line, err=True)
    if failed and totals["accepted"] == 0 and totals["duplicates"] == 0:
        sys.exit(1)


def _import_file(session: Session, carrier: models.Carrier, path: Path, partial: bool) -> Outcome:
    """One file, one unit of work: stored and committed, or (unreadable, rejected) nothing written."""
    raw, content_type = path.read_bytes(), _content_type(path)
    return commit_unit(
        session,
        lambda: accept_payload(
            session, carrier, raw, content_type, source="file", partial=partial, resolve=resolver()
        ),
    )


def _content_type(path: Path) -> str:
    return {".json": "application/json", ".xml": "application/xml", ".csv": "text/csv"}.get(
        path.suffix.lower(), "application/octet-stream"
    )


@click.group("eta")
def eta_group() -> None:
    """Delivery-time model commands."""


@eta_group.command("refresh")
@click.option("--as-of", "as_of", help="ISO 8601 instant with its offset: learn from the window ending then "
              "(scans after it are not read), to replay a past moment; default now")
@with_appcontext
def eta_refresh(as_of: str | None) -> None:
    """Re-learn the leg-time model from the database now (the scheduler also does this hourly)."""
    from datetime import UTC, datetime

    from routing.calibration import corrections_text
    from web.eta.learning import LEARNING_MAX_PARCELS, learn

    limit = int(current_app.config.get("LEARNING_MAX_PARCELS", LEARNING_MAX_PARCELS))
    moment = aware_option(as_of, "--as-of") if as_of else datetime.now(UTC)
    model = learn(get_session(), moment, limit=limit)
    click.echo(
        f"model {model.version} learned from {model.observations} observations "
        f"({len(model.legs)} legs, {len(model.dwells)} dwells)"
        + (
            f"; hours to arrival: {len(model.remaining.curves)} milestone curves from "
            f"{model.remaining.observations} parcels"
            if model.remaining is not None
            else ""
        )
        + (f"; windows calibrated: {corrections_text(model.calibration)}" if model.calibration else "")
    )


@eta_group.command("backtest")
@click.option("--split-at", help="ISO 8601 instant: learn from the history before it, test on what follows")
@click.option(
    "--test-days",
    default=30,
    show_default=True,
    type=click.IntRange(1, 365),
    help="test on the parcels first scanned in the N days after the split",
)
@click.option(
    "--settle-days",
    default=30,
    show_default=True,
    type=click.IntRange(0, 365),
    help="without --split-at: end the test window this many days before the newest first scan, so that "
    "slow parcels have had time to arrive and the test is not biased towards fast ones",
)
@click.option(
    "--refit-days",
    default=7.0,
    show_default=True,
    type=click.FloatRange(0, 365),
    help="relearn the model every N days of the test period, as the scheduler would (0: learn once)",
)
@with_appcontext
def eta_backtest(split_at: str | None, test_days: int, settle_days: int, refit_days: float) -> None:
    """Replay history with a time split and print ETA accuracy against two baselines."""
    from datetime import UTC, timedelta

    from sqlalchemy import func, select

    from tracking import models
    from tracking.db import read_only
    from web.eta.learning import backtest

    session = get_session()
    # Whatever the command's session did before is committed: the replay reads in a transaction of its own.
    with unit_of_work(session):
        pass
    read_only(session)  # minutes of reading must not hold SQLite's write lock
    if split_at:
        split = aware_option(split_at, "--split-at")
    else:
        last = session.scalar(select(func.max(models.Parcel.first_event_at)))
        if last is None:
            raise click.ClickException("no parcels with scans to backtest on; build the demo world first")
        split = last.astimezone(UTC) - timedelta(days=test_days + settle_days)
    split = split.astimezone(UTC)
    window = session.scalar(
        select(func.count()).where(
            models.Parcel.first_event_at >= split,
            models.Parcel.first_event_at < split + timedelta(days=test_days),
        )
    ) or 0
    report = backtest(session, split, test_days=test_days, refit_days=refit_days or None)
    if report.test_parcels == 0 or report.train_parcels == 0:
        raise click.ClickException(
            f"the split at {split.isoformat()} leaves {report.train_parcels} arrived parcels to learn from "
            f"and {report.test_parcels} to test; choose another --split-at or fewer --settle-days"
        )
    click.echo(
        f"split at {split.isoformat()}: learned from {report.train_parcels} parcels; test window "
        f"{test_days} days, {window} parcels first scanned in it, {report.test_parcels} of them delivered "
        f"({report.test_parcels / max(window, 1):.0%}) and scored at their arrival (delivered or ready "
        "for collection)"
    )
    click.echo(report.format())


def commands() -> list[click.Command]:
    """Every ``silkway`` command; create_app puts them on ``app.cli`` (so tests reach them too)."""
    from web.cli.connectors import connectors_group
    from web.cli.feeds import feeds_group, reprocess_command
    from web.cli.keys import COMMANDS as KEY_COMMANDS
    from web.demo.cli import demo_command
    from web.worker.serve import scheduler_command, serve_demo_command

    for key_command in KEY_COMMANDS:  # keys list, revoke, rotate beside keys create
        keys_group.add_command(key_command)
    return [
        db_group,
        keys_group,
        import_files,
        eta_group,
        scheduler_command,
        serve_demo_command,
        feeds_group,
        reprocess_command,
        demo_command,
        connectors_group,
    ]


def register_commands(app: Flask) -> None:
    """Attach the commands to an app's CLI group."""
    for command in commands():
        app.cli.add_command(command)


def main() -> None:
    """Entry point of the console script."""
    cli(prog_name="silkway")


__all__ = ["cli", "current_app", "main"]

if __name__ == "__main__":
    main()
