"""CLI commands for polled feeds (``silkway feeds add|list|poll``) and ``silkway reprocess``."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from functools import partial

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from carriers import ADAPTERS
from tracking import feeds, models
from tracking.accounts import AccountError, ensure_carrier
from tracking.events import ParseResult, PayloadError
from tracking.ingest import PlaceResolver
from tracking.reprocess import PayloadChange, forget_mapped_codes, payload_ids, reprocess_payload
from tracking.types import utcnow
from web.cli.params import CARRIER_CODE
from web.db import commit_unit, get_session
from web.feeds.client import PullSettings
from web.feeds.pull import Poller, PollResult, feed_client, poll_feeds
from web.places import resolver


@click.group("feeds")
def feeds_group() -> None:
    """Carrier feeds that Silkway polls (cursor feeds, Russian Post batch tickets)."""


@feeds_group.command("add")
@click.option(
    "--carrier", "carrier_code", type=CARRIER_CODE, required=True, help="carrier code; registered if new"
)
@click.option("--kind", type=click.Choice(feeds.KINDS), required=True, help="the feed's protocol")
@click.option("--url", required=True, help="base URL (cursor: {url}/events; russian_post: the SOAP endpoint)")
@with_appcontext
def feeds_add(carrier_code: str, kind: str, url: str) -> None:
    """Configure a carrier's feed (or re-point it); the scheduler polls it from its next tick."""
    session = get_session()

    def add() -> tuple[models.Carrier, models.FeedCursor, bool]:
        carrier = session.scalar(select(models.Carrier).where(models.Carrier.code == carrier_code))
        registered = carrier is None
        if carrier is None:
            carrier = ensure_carrier(session, carrier_code, feeds.KIND_FORMATS[kind])
        return carrier, feeds.add_feed(session, carrier, kind, url), registered

    try:
        carrier, feed, registered = commit_unit(session, add)
    except (AccountError, feeds.FeedError) as exc:
        raise click.UsageError(str(exc)) from None
    if registered:
        click.echo(f"registered carrier {carrier.code} ({carrier.format})", err=True)
    click.echo(f"feed {carrier.code} ({kind}) at {feed.base_url}: due now, cursor={feed.cursor or '-'}")


@feeds_group.command("list")
@with_appcontext
def feeds_list() -> None:
    """Every configured feed: where it is read from, its cursor and how it fares."""
    rows = feeds.all_feeds(get_session())
    if not rows:
        click.echo("no feeds; add one with silkway feeds add --carrier CODE --kind KIND --url URL")
        return
    for feed in rows:
        due = feed.next_poll_at.isoformat(timespec="seconds") if feed.next_poll_at else "now"
        line = (
            f"{feed.carrier.code} {feed.kind} {feed.base_url} cursor={feed.cursor or '-'} next={due} "
            f"failures={feed.failures}" + ("" if feed.enabled else " disabled")
        )
        click.echo(line + (f" last_error={feed.last_error}" if feed.last_error else ""))


@feeds_group.command("poll")
@click.option("--all", "everything", is_flag=True, help="poll every feed now, not only those due")
@with_appcontext
def feeds_poll(everything: bool) -> None:
    """Poll the feeds that are due now (what the scheduler does every tick); one line per feed."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if everything:
        ids = [feed.id for feed in feeds.all_feeds(get_session()) if feed.enabled]
        get_session().rollback()
        poller = Poller(
            app.extensions["silkway.db"].session,
            feed_client(app),
            PullSettings.from_config(app.config),
            utcnow(),
            resolver(),
        )
        results: list[PollResult] = [poller.poll(feed_id) for feed_id in ids]
    else:
        results = poll_feeds(app)
    for result in results:
        click.echo(result.summary())
    if not results:
        click.echo("no feed is due")
    if any(result.state == "failed" for result in results):
        sys.exit(1)


@click.command("reprocess")
@click.option("--carrier", "carrier_code", type=CARRIER_CODE, help="only this carrier's payloads")
@click.option("--since", help="only payloads received at or after this ISO 8601 time (UTC if no offset)")
@with_appcontext
def reprocess_command(carrier_code: str | None, since: str | None) -> None:
    """Parse stored raw payloads again with the current adapters and correct their events."""
    session = get_session()
    carrier_id = None
    if carrier_code:
        carrier_id = session.scalar(select(models.Carrier.id).where(models.Carrier.code == carrier_code))
        if carrier_id is None:
            raise click.UsageError(f"unknown carrier {carrier_code!r}")
    ids = payload_ids(session, carrier_id, _since(since))
    session.rollback()
    totals = {"payloads": 0, "kept": 0, "added": 0, "removed": 0}
    parcels: set[int] = set()
    mapped: dict[int, set[str]] = {}
    unmapped: dict[int, set[str]] = {}
    failed: list[str] = []
    resolve = resolver()
    with click.progressbar(ids, label="reprocessing", file=sys.stderr, show_pos=True) as bar:
        for payload_id in bar:
            try:
                change, owner = commit_unit(session, partial(_reprocess, session, payload_id, resolve))
            except (PayloadError, IntegrityError, OperationalError) as exc:
                session.rollback()
                failed.append(f"payload {payload_id}: {exc}")
                continue
            assert owner is not None
            totals["payloads"] += 1
            totals["kept"] += change.kept
            totals["added"] += change.added
            totals["removed"] += change.removed
            parcels |= change.parcel_ids if change.added or change.removed else set()
            mapped.setdefault(owner.carrier_id, set()).update(change.mapped_codes)
            unmapped.setdefault(owner.carrier_id, set()).update(change.unmapped_codes)
    resolved = commit_unit(
        session, lambda: sum(forget_mapped_codes(session, cid, mapped[cid], unmapped[cid]) for cid in mapped)
    )
    summary = " ".join(f"{key}={value}" for key, value in totals.items())
    click.echo(f"{summary} parcels_corrected={len(parcels)} codes_resolved={resolved} failed={len(failed)}")
    for line in failed:
        click.echo(line, err=True)
    if failed:
        sys.exit(1)


def _reprocess(
    session: Session, payload_id: int, resolve: PlaceResolver | None
) -> tuple[PayloadChange, models.RawPayload | None]:
    """One payload reprocessed, as one unit of work."""
    change = reprocess_payload(session, payload_id, _parse, resolve)
    return change, session.get(models.RawPayload, payload_id)


def _parse(carrier: models.Carrier, raw: bytes, content_type: str) -> ParseResult:
    adapter = ADAPTERS.get(carrier.format)
    if adapter is None:
        raise PayloadError(f"carrier {carrier.code!r} has format {carrier.format!r}, which has no adapter")
    return adapter.parse(raw, content_type, carrier.code)


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time", param_hint="--since") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
