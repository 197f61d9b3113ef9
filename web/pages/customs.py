"""Customs duties in plain words: whether the shopper has a duty to pay, what to do, and the rule of thumb.

A parcel owes a duty from its newest ``exception/customs_duty_due`` event until a later event says it was
paid (``in_transit/customs_duty_paid``), released (``customs_cleared``), delivered or sent back. While
the parcel itself is in that state it waits for the shopper: the page then shows no delivery window.
The rule of thumb is data (``web/pages/data/customs_duty_rule.json``, with its sources).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from flask_babel import gettext as _

from tracking.queries import PublicEvent, PublicParcel
from tracking.statuses import awaits_recipient

DUTY_DUE = "customs_duty_due"
SETTLED = frozenset({"customs_duty_paid", "customs_cleared", "returning", "returned"})
RULE_FILE = Path(__file__).resolve().parent / "data" / "customs_duty_rule.json"


@dataclass(frozen=True, slots=True)
class DutyRule:
    """The duty-free allowance of a parcel and what is paid above it (EAEU, since ``since``)."""

    since: date
    duty_free_eur: int
    duty_free_kg: int
    rate_percent: int
    minimum_eur_per_kg: int
    source_name: str
    source_url: str


@dataclass(frozen=True, slots=True)
class CustomsNotice:
    """What the page says about a duty to pay, already in the reader's language."""

    title: str
    what_to_do: str
    rule: str
    source_name: str
    source_url: str
    holding: bool


@cache
def duty_rule() -> DutyRule:
    """The rule of thumb for duties on parcels, read once from its data file."""
    doc = json.loads(RULE_FILE.read_text(encoding="utf-8"))
    return DutyRule(
        since=date.fromisoformat(doc["since"]),
        duty_free_eur=int(doc["duty_free_eur"]),
        duty_free_kg=int(doc["duty_free_kg"]),
        rate_percent=int(doc["rate_percent"]),
        minimum_eur_per_kg=int(doc["minimum_eur_per_kg"]),
        source_name=str(doc["source_name"]),
        source_url=str(doc["source_url"]),
    )


def unpaid_duty(view: PublicParcel) -> PublicEvent | None:
    """The event that asked for a duty still unpaid (events are newest first), or None."""
    for event in view.events:
        if event.substatus == DUTY_DUE:
            return event
        if event.status == "delivered" or event.substatus in SETTLED:
            return None
    return None


def waiting_for_payment(view: PublicParcel) -> bool:
    """True while the parcel itself is held until the shopper pays: its delivery date is theirs to set."""
    return awaits_recipient(view.status, view.substatus)


def customs_notice(view: PublicParcel) -> CustomsNotice | None:
    """The notice about a duty to pay, or None when the parcel owes none."""
    if view.status == "delivered" or unpaid_duty(view) is None:
        return None
    rule = duty_rule()
    holding = waiting_for_payment(view)
    if holding:
        what = _(
            "The parcel waits at customs until the duty is paid. You should get a notice to pay by SMS or "
            "in your account with the shop or the carrier; once it is paid, the parcel moves on."
        )
    else:
        what = _(
            "Customs has set a duty on this parcel. Pay it as the notice you get by SMS or in your account "
            "says, or at the post office when you collect the parcel."
        )
    return CustomsNotice(
        title=_("Customs duty to pay"),
        what_to_do=what,
        rule=_(
            "Rule of thumb since %(year)d: a parcel worth more than %(eur)d EUR or heavier than %(kg)d kg "
            "pays %(rate)d %% of the excess, at least %(per_kg)d EUR per extra kilogram. "
            "Customs sets the amount.",
            year=rule.since.year,
            eur=rule.duty_free_eur,
            kg=rule.duty_free_kg,
            rate=rule.rate_percent,
            per_kg=rule.minimum_eur_per_kg,
        ),
        source_name=rule.source_name,
        source_url=rule.source_url,
        holding=holding,
    )
