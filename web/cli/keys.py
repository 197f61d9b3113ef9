"""``silkway keys list|revoke|rotate``: the operator's view of the API keys, and how a key ends.

A key is named by its prefix, as ``keys list`` shows it (``sw_car_AbCdE``), or any unambiguous start of
one, or the whole key (to revoke a leaked key as it was found). The key itself and its hash are never
printed. Revocation is checked on every request (the API keeps no per-process cache of keys), so a key
revoked here is refused by every worker from the next request on.

Exit statuses: 0 done (revoking a key that is already revoked changes nothing, says so and exits 0, so a
script may revoke twice); 1 refused (rotating a revoked or already rotated key); 2 a bad argument (an
unknown or ambiguous prefix, a malformed --grace, an unknown --carrier or --merchant).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracking import models
from tracking.accounts import (
    PREFIX_LENGTH,
    ROLES,
    AccountError,
    find_keys,
    is_live,
    list_keys,
    owner,
    revoke_key,
    rotate_key,
)
from tracking.db import read_only
from tracking.types import utcnow
from web.cli.params import CARRIER_CODE
from web.db import commit_unit, get_session

DEFAULT_GRACE = "24h"
MAX_GRACE = timedelta(days=365)
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
COLUMNS = ("PREFIX", "ROLE", "OWNER", "LABEL", "CREATED", "LAST USED", "STATE")


class Duration(click.ParamType):  # type: ignore[type-arg]
    """A span such as ``90s``, ``30m``, ``24h``, ``7d`` or ``2w``; ``0`` alone means none."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> timedelta:
        if isinstance(value, timedelta):
            return value
        text = str(value).strip().lower()
        if text == "0":
            return timedelta(0)
        match = re.fullmatch(r"(\d{1,7})\s*([smhdw])", text)
        if match is None:
            self.fail(
                f"{value!r} is not a duration: give a number and a unit (s, m, h, d or w), e.g. 24h, "
                "or 0 for none",
                param,
                ctx,
            )
        span = timedelta(seconds=int(match.group(1)) * UNITS[match.group(2)])
        if span > MAX_GRACE:
            self.fail(f"{value!r} is longer than {MAX_GRACE.days} days", param, ctx)
        return span


DURATION = Duration()


def when(instant: datetime | None) -> str:
    """An instant as the table shows it, in UTC to the second; "-" for none."""
    return instant.strftime("%Y-%m-%d %H:%M:%SZ") if instant is not None else "-"


def describe(row: models.ApiKey) -> str:
    """``sw_car_AbCdE (carrier key for acme-express, "label")``."""
    whose = "" if row.role == "operator" else f" for {owner(row)}"
    label = f', "{one_line(row.label)}"' if row.label else ""
    return f"{row.prefix} ({row.role} key{whose}{label})"


def one_line(text: str) -> str:
    """Text with its runs of white space (newlines, tabs) as single spaces, so a table row stays one line."""
    return " ".join(text.split())


def state(row: models.ApiKey, now: datetime, successors: dict[int, str]) -> str:
    """active; expires at T (rotated to P); revoked at T (rotated to P)."""
    rotated = f" (rotated to {successors.get(row.replaced_by_id, '?')})" if row.replaced_by_id else ""
    if row.revoked_at is None:
        return "active"
    if is_live(row, now):
        return f"expires at {when(row.revoked_at)}{rotated}"
    return f"revoked at {when(row.revoked_at)}{rotated}"


def one_key(session: Session, prefix: str) -> models.ApiKey:
    """The one key ``prefix`` designates; a usage error (exit 2) saying why when it names none or several."""
    found = find_keys(session, prefix)
    if not found:
        raise click.BadParameter(
            f"no key has the prefix {prefix[:PREFIX_LENGTH]!r}"
            + ("…" if len(prefix) > PREFIX_LENGTH else "")
            + "; silkway keys list --all shows every key's prefix",
            param_hint="PREFIX",
        )
    if len(found) > 1:
        shown = ", ".join(describe(row) for row in found[:10]) + (" …" if len(found) > 10 else "")
        raise click.BadParameter(
            f"{prefix!r} is the start of {len(found)} keys' prefixes: {shown}; give the whole prefix "
            "(or, if two keys share it, the whole key)",
            param_hint="PREFIX",
        )
    return found[0]


@click.command("list")
@click.option("--role", type=click.Choice(ROLES), help="only the keys of this role")
@click.option("--carrier", "carrier_code", type=CARRIER_CODE, help="only the keys of this carrier")
@click.option("--merchant", "merchant_name", help="only the keys of this merchant")
@click.option(
    "--all", "include_ended", is_flag=True, help="also the revoked keys (and rotated ones past their grace)"
)
@with_appcontext
def keys_list(
    role: str | None, carrier_code: str | None, merchant_name: str | None, include_ended: bool
) -> None:
    """List the API keys (never the key itself): prefix, role, owner, label, created, last used, state.

    Times are UTC; "last used" is kept to the minute. STATE is "active", "expires at T" (a rotated key in
    its grace period) or "revoked at T".
    """
    session = get_session()
    read_only(session)  # a reader: on SQLite it must not take the write lock
    carrier = merchant = None
    if carrier_code is not None:
        carrier = session.scalar(select(models.Carrier).where(models.Carrier.code == carrier_code))
        if carrier is None:
            raise click.BadParameter(f"no carrier has the code {carrier_code!r}", param_hint="--carrier")
    if merchant_name is not None:
        name = merchant_name.strip()
        merchant = session.scalar(select(models.Merchant).where(models.Merchant.name == name))
        if merchant is None:
            raise click.BadParameter(f"no merchant is named {merchant_name!r}", param_hint="--merchant")
    now = utcnow()
    rows = list_keys(session, now, role=role, carrier=carrier, merchant=merchant, include_ended=True)
    shown = [row for row in rows if include_ended or is_live(row, now)]
    successor_ids = {row.replaced_by_id for row in shown if row.replaced_by_id is not None}
    successor_rows = session.execute(
        select(models.ApiKey.id, models.ApiKey.prefix).where(models.ApiKey.id.in_(successor_ids))
    ).all()
    successors = {row.id: row.prefix for row in successor_rows}
    table = [
        (
            row.prefix,
            row.role,
            owner(row),
            one_line(row.label) if row.label else "-",
            when(row.created_at),
            when(row.last_used_at),
            state(row, now, successors),
        )
        for row in shown
    ]
    hidden = len(rows) - len(shown)
    if not table:
        click.echo("no keys" + (f" ({hidden} revoked; --all shows them)" if hidden else ""), err=True)
        return
    widths = [max(len(COLUMNS[i]), *(len(line[i]) for line in table)) for i in range(len(COLUMNS) - 1)]
    for line in [COLUMNS, *table]:
        padded = [cell.ljust(width) for cell, width in zip(line[:-1], widths, strict=True)]
        click.echo("  ".join([*padded, line[-1]]))
    if hidden:
        click.echo(f"{hidden} revoked key{'s' if hidden != 1 else ''} not shown (--all shows them)", err=True)


@click.command("revoke")
@click.argument("prefix")
@with_appcontext
def keys_revoke(prefix: str) -> None:
    """Revoke the key with this PREFIX: every worker refuses it from the next request on.

    A rotated key still in its grace period is refused from now on. Revoking a key that is already
    revoked changes nothing: it says so and exits 0.
    """
    session = get_session()

    def revoke() -> tuple[models.ApiKey, datetime | None, bool, datetime]:
        row = one_key(session, prefix)
        before, now = row.revoked_at, utcnow()
        return row, before, revoke_key(session, row, now), now

    row, before, changed, now = commit_unit(session, revoke)
    if not changed:
        click.echo(f"{describe(row)} was already revoked at {when(row.revoked_at)}; nothing changed")
    elif before is not None:
        click.echo(
            f"revoked {describe(row)} at {when(now)}; its grace period was to end at {when(before)}"
        )
    else:
        click.echo(f"revoked {describe(row)} at {when(now)}; it is refused from now on")


@click.command("rotate")
@click.argument("prefix")
@click.option(
    "--grace",
    type=DURATION,
    default=DEFAULT_GRACE,
    show_default=True,
    help="how long the old key stays accepted (e.g. 90m, 24h, 7d; 0 refuses it at once)",
)
@with_appcontext
def keys_rotate(prefix: str, grace: timedelta) -> None:
    """Replace the key with this PREFIX by a new one for the same role, owner and label.

    The new key is printed once, alone on the last line. The old key stays accepted for the grace period,
    then is refused (``keys revoke`` ends it sooner).
    """
    session = get_session()

    def rotate() -> tuple[models.ApiKey, str]:
        row = one_key(session, prefix)
        return row, rotate_key(session, row, grace, utcnow())

    try:
        row, key = commit_unit(session, rotate)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    if grace:
        ending = f"the old key is accepted until {when(row.revoked_at)}, then refused"
    else:
        ending = "the old key is refused from now on"
    click.echo(
        f"rotated {describe(row)} to {key[:PREFIX_LENGTH]}; {ending}. Store the new key now, "
        "it is not shown again:",
        err=True,
    )
    click.echo(key)


COMMANDS = (keys_list, keys_revoke, keys_rotate)
