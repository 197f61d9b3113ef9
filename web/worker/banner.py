"""The banner ``silkway serve-demo`` prints once the demo is up: links to parcels of every kind the world
has, the merchant dashboard (with a merchant key to sign in with) and the API documentation.

The parcels are chosen from the database by status and substatus, each kind only if the world has one,
and each parcel under one kind only. It reads in a session of its own, closed before it returns:
``serve-demo`` keeps its app context (and so the ``g`` session of get_session()) for as long as it serves,
and a transaction left open there would hold SQLite's write lock against the scheduler and live mode.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select

from tracking import models
from tracking.db import read_only
from tracking.events import as_utc
from web.db import database

P = models.Parcel
CUSTOMS = ("export_customs", "customs_processing")
RETURNS = ("returning", "returned")
# Parcels of a kind looked at (newest status first) to find one not shown under another kind already.
CANDIDATES = 50


@dataclass(frozen=True, slots=True)
class Kind:
    """A kind of parcel the banner links to: its label and which parcels are of it."""

    label: str
    condition: ColumnElement[bool]
    prefer: ColumnElement[bool] | None = None  # among the kind's parcels, these first


# In the order printed. They overlap (a parcel at customs may be stalled): each parcel is shown once,
# under the first of its kinds in PICK_ORDER, which takes the rarest kinds first.
KINDS = (
    Kind("delivered", P.status == "delivered"),
    Kind("under way", and_(P.status == "in_transit", P.substatus.not_in(CUSTOMS), P.stalled_at.is_(None))),
    Kind("at customs", and_(P.status == "in_transit", P.substatus.in_(CUSTOMS))),
    Kind("ready to collect", P.status == "available_for_pickup"),
    Kind(
        "delayed",
        or_(
            and_(P.stalled_at.is_not(None), P.status.not_in(("delivered", "expired"))),
            P.substatus == "delayed",
        ),
    ),
    Kind("returned", and_(P.status == "exception", P.substatus.in_(RETURNS))),
    Kind(
        "held",
        and_(P.status == "exception", P.substatus.not_in((*RETURNS, "delayed"))),
        prefer=P.substatus == "customs_held",
    ),
)
PICK_ORDER = ("returned", "held", "delayed", "at customs", "ready to collect", "delivered", "under way")


@dataclass(frozen=True, slots=True)
class Example:
    """One parcel to look at: its kind, a tracking number and its status now."""

    kind: str
    number: str
    status: str
    substatus: str
    last_event_at: datetime | None = None

    def state(self, now: datetime) -> str:
        """Its status and substatus, and how long it has been silent when that is days."""
        text = f"{self.status}/{self.substatus}"
        if self.last_event_at is not None and self.status not in ("delivered", "expired"):
            days = (now - as_utc(self.last_event_at)).days
            if days >= 2:
                text += f", no scan for {days} days"
        return text


def example_parcels() -> tuple[list[Example], list[str]]:
    """One parcel of each kind the world has, in KINDS order, and the labels of the kinds it has none of."""
    kinds = {kind.label: kind for kind in KINDS}
    found: dict[str, Example] = {}
    shown: set[int] = set()
    with database().session() as session:
        read_only(session)
        for label in PICK_ORDER:
            kind = kinds[label]
            order: list[Any] = [P.status_at.desc().nulls_last(), P.id.desc()]
            if kind.prefer is not None:
                order.insert(0, case((kind.prefer, 0), else_=1))
            rows = session.execute(
                select(P.id, P.status, P.substatus, P.last_event_at)
                .where(kind.condition)
                .order_by(*order)
                .limit(CANDIDATES)
            ).all()
            row = next((r for r in rows if r.id not in shown), None)
            if row is None:
                continue
            number = session.scalar(
                select(models.Identifier.number)
                .where(models.Identifier.parcel_id == row.id)
                .order_by(models.Identifier.id)
                .limit(1)
            )
            if number is None:
                continue
            shown.add(row.id)
            found[label] = Example(label, number, row.status, row.substatus, row.last_event_at)
    examples = [found[kind.label] for kind in KINDS if kind.label in found]
    absent = [kind.label for kind in KINDS if kind.label not in found]
    return examples, absent


def merchant_key(keys_path: Path) -> tuple[str, str] | None:
    """(merchant name, key) from the demo's keys file, for the merchant with the most parcels."""
    try:
        keys: dict[str, str] = json.loads(keys_path.read_text(encoding="utf-8")).get("merchants", {})
    except (OSError, ValueError, AttributeError):
        return None
    if not keys:
        return None
    with database().session() as session:
        read_only(session)
        rows = session.execute(
            select(models.Merchant.name, func.count(P.id))
            .join(P, P.merchant_id == models.Merchant.id)
            .group_by(models.Merchant.name)
        ).tuples().all()
        counts = dict(rows)
    name = max(sorted(keys), key=lambda n: counts.get(n, 0))
    return name, keys[name]


def banner(
    base: str,
    examples: Sequence[Example],
    absent: Sequence[str],
    merchant: tuple[str, str] | None,
    keys_path: Path,
    notes: Sequence[str] = (),
    listening: str | None = None,
) -> list[str]:
    """The banner's lines; every link is a full URL on ``base`` (``http://host:port``)."""
    rule = "-" * 78
    lines = ["", rule, f"Silkway is serving the demo world at {base}/   (Ctrl-C stops it)"]
    if listening:
        lines.append(f"  (listening on {listening}; the links below are this machine's own address)")
    width = max([len(e.kind) for e in examples] + [len("merchant dashboard")]) + 2
    lines += ["", "Parcels to look at:"]
    now = datetime.now(UTC)
    for example in examples:
        lines.append(f"  {example.kind:{width}}{base}/track/{example.number}   ({example.state(now)})")
    if not examples:
        lines.append("  none yet: the world has no parcels")
    if absent:
        lines.append(f"  none in this world yet: {', '.join(absent)}")
    lines += ["", f"  {'merchant dashboard':{width}}{base}/dashboard/login"]
    if merchant is not None:
        lines.append(f"  {'':{width}}sign in with the key of {merchant[0]}: {merchant[1]}")
        lines.append(f"  {'':{width}}(every demo merchant's key is in {keys_path})")
    else:
        lines.append(
            f"  {'':{width}}sign in with a merchant key: silkway keys create --role merchant --merchant NAME"
        )
    lines.append(f"  {'API documentation':{width}}{base}/apidoc/swagger/")
    lines.append(f"  {'OpenAPI document':{width}}{base}/api/openapi.json")
    lines += ["", *notes, rule]
    return lines


def as_text(lines: Sequence[Any]) -> str:
    """The banner as one block of text (written at once, so no log line lands inside it)."""
    return "\n".join(str(line) for line in lines) + "\n"
