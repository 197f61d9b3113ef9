"""The ``silkway`` command: database, keys, imports, demo, scheduler and ETA commands."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from carriers import ADAPTERS, BUILT_IN_FORMATS
from tracking import schema
from tracking.accounts import AccountError, create_key, ensure_carrier, ensure_merchant
from web import create_app
from web.db import database, get_session
from web.ingestion import BatchRejected, PayloadUnreadable, accept_payload
from web.places import resolver


@click.group(cls=FlaskGroup, create_app=create_app, add_version_option=False, load_dotenv=False)
def cli() -> None:
    """Silkway: parcel tracking and delivery-time prediction for the China to Russia corridor."""


@cli.group("db")
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


@cli.group("keys")
def keys_group() -> None:
    """API key commands."""


@keys_group.command("create")
@click.option("--role", type=click.Choice(["carrier", "merchant", "operator"]), required=True)
@click.option("--carrier", "carrier_code", help="carrier code (role carrier)")
@click.option("--merchant", "merchant_name", help="merchant name (role merchant)")
@click.option("--format", "fmt", type=click.Choice(sorted(ADAPTERS)), help="feed format of a new carrier")
@click.option("--label", help="a note to recognise the key by")
@with_appcontext
def keys_create(
    role: str, carrier_code: str | None, merchant_name: str | None, fmt: str | None, label: str | None
) -> None:
    """Create an API key; it is printed once, alone on the last line."""
    session = get_session()
    try:
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
            merchant = ensure_merchant(session, merchant_name)
        key = create_key(session, role, carrier=carrier, merchant=merchant, label=label)
        session.commit()
    except AccountError as exc:
        raise click.UsageError(str(exc)) from None
    owner = f" for carrier {carrier.code} ({carrier.format})" if carrier else ""
    owner += f" for merchant {merchant.name}" if merchant else ""
    click.echo(f"created a {role} key{owner}; store it now, it is not shown again:", err=True)
    click.echo(key)


@cli.command("import")
@click.option("--carrier", "carrier_code", required=True, help="the carrier whose feed files these are")
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

    from tracking import models

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
    with click.progressbar(files, label="importing", file=sys.stderr, show_pos=True) as bar:
        for path in bar:
            content_type = _content_type(path)
            try:
                outcome = accept_payload(
                    session,
                    carrier,
                    path.read_bytes(),
                    content_type,
                    source="file",
                    partial=partial,
                    resolve=resolver(),
                )
            except (PayloadUnreadable, BatchRejected) as exc:
                session.rollback()
                failed.append(f"{path}: {exc}")
                continue
            totals["accepted"] += outcome.accepted
            totals["duplicates"] += outcome.duplicates
            totals["rejected"] += len(outcome.rejected)
            totals["ignored"] += outcome.ignored
            for error in outcome.rejected:
                failed.append(f"{path}: item {error.index}: {error.error}")
    click.echo(" ".join(f"{k}={v}" for k, v in totals.items()) + f" files={len(files)}")
    for line in failed:
        click.echo(line, err=True)
    if failed and totals["accepted"] == 0 and totals["duplicates"] == 0:
        sys.exit(1)


def _content_type(path: Path) -> str:
    return {".json": "application/json", ".xml": "application/xml", ".csv": "text/csv"}.get(
        path.suffix.lower(), "application/octet-stream"
    )


def _register_commands() -> None:
    from web.serve import scheduler_command, serve_demo_command

    cli.add_command(scheduler_command)
    cli.add_command(serve_demo_command)

    from web.feeds_cli import feeds_group, reprocess_command

    cli.add_command(feeds_group)
    cli.add_command(reprocess_command)

    from web.demo.cli import demo_command

    cli.add_command(demo_command)


_register_commands()


def main() -> None:
    """Entry point of the console script."""
    cli(prog_name="silkway")


__all__ = ["cli", "current_app", "main"]

if __name__ == "__main__":
    main()
