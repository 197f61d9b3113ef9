"""What the parcel page shows, worked out from the public view: words, stages, ETA window and map."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup
from sqlalchemy.orm import Session

from routing.eta import EtaAnswer
from tracking.queries import PublicEvent, PublicParcel
from tracking.stalled import Threshold, default_threshold
from web.pages.customs import CustomsNotice, customs_notice, waiting_for_payment
from web.pages.eta_notes import eta_notes
from web.pages.eta_provider import eta_provider, provided_eta
from web.pages.i18n import (
    STAGES,
    country_name,
    date_window,
    day,
    local_clock,
    local_date,
    percent,
    status_words,
)
from web.pages.journey import delay_notice, journey_words
from web.pages.map_svg import network, place_name
from web.pages.route_view import Leg, route_legs, route_map, route_points

log = logging.getLogger("silkway.web.pages")

CUSTOMS = {
    "arrived_destination_country",
    "customs_processing",
    "customs_duty_paid",
    "customs_held",
    "customs_duty_due",
    "handed_over",
}
# Released by customs: the parcel is on its way to the shopper, so the progress bar moves on to delivery.
PAST_CUSTOMS = {"customs_cleared"}
LAST_MILE = {"out_for_delivery", "available_for_pickup", "delivery_failed"}
# p10 and p90 bound the window, so it holds the delivery with this probability (unless the ETA says).
WINDOW_PROBABILITY = 0.8


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the history: our words for the status, the carrier's own words, when and where."""

    words: str
    original: str
    at: datetime
    place: str
    carrier: str
    status: str
    repeats: str = ""  # "3 identical scans since …" when consecutive identical scans were folded into one


@dataclass(frozen=True, slots=True)
class EtaWindow:
    """The expected delivery as shown: a window of days, its probability and the likeliest day."""

    window: str
    probability: str
    likeliest: str
    notes: tuple[str, ...] = ()  # how it was worked out (web.pages.eta_notes)


@dataclass(slots=True)
class ParcelPage:
    """Everything the parcel page renders, already in the reader's language."""

    headline: str
    stage: int
    entries: list[Entry]
    eta: EtaWindow | None
    route_map: Markup | None
    stages: list[str] = field(default_factory=list)
    customs: CustomsNotice | None = None
    delay: str | None = None
    journey: str | None = None
    eta_paused: bool = False
    legs: list[Leg] = field(default_factory=list)


def stage_of(status: str, substatus: str) -> int:
    """Which of the five stages (label, on the way, customs, delivery, delivered) a status belongs to."""
    if status == "delivered":
        return 4
    if status in LAST_MILE or substatus in PAST_CUSTOMS:
        return 3
    if substatus in CUSTOMS:
        return 2
    if status in ("pending", "info_received"):
        return 0
    return 1


def place_of(event: PublicEvent, lang: str) -> str:
    """Where an event happened, in the reader's language where the place is a known network node."""
    name = place_name(event.place_id, lang) or event.location_name or ""
    country = country_name(event.country)
    if name and country and country not in name:
        return str(_("%(place)s, %(country)s", place=name, country=country))  # Chinese: country first
    return name or country


def entry(event: PublicEvent, lang: str) -> Entry:
    """A history line for one event."""
    return Entry(
        words=status_words(event.status, event.substatus),
        original=event.description.strip(),
        at=event.occurred_at,
        place=place_of(event, lang),
        carrier=event.carrier,
        status=event.status,
    )


def _same_scan(a: Entry, b: Entry) -> bool:
    return (a.words, a.original, a.place, a.carrier) == (b.words, b.original, b.place, b.carrier)


def collapsed(entries: list[Entry]) -> list[Entry]:
    """The history with each run of consecutive identical scans (same words, text, place and carrier)
    shown once, at its newest time, saying how many there were since when."""
    out: list[Entry] = []
    run: list[Entry] = []
    for item in [*entries, None]:
        if item is not None and run and _same_scan(run[0], item):
            run.append(item)
            continue
        if run:
            first = run[-1].at
            repeats = (
                ngettext(
                    "%(num)d identical scan since %(when)s",
                    "%(num)d identical scans since %(when)s",
                    len(run),
                    when=f"{local_date(first)}, {local_clock(first)}",
                )
                if len(run) > 1
                else ""
            )
            out.append(replace(run[0], repeats=repeats))
        run = [item] if item is not None else []
    return out


def summary(view: PublicParcel, lang: str) -> dict[str, Any]:
    """The one-line summary of a parcel on the several-numbers page."""
    latest = view.events[0] if view.events else None
    return {
        "words": status_words(view.status, view.substatus),
        "at": latest.occurred_at if latest else None,
        "place": place_of(latest, lang) if latest else "",
        "status": view.status,
    }


def eta_for(session: Session, view: PublicParcel) -> EtaAnswer | None:
    """The parcel's ETA from the app's ETA provider (config ETA_PROVIDER, else web.eta.lookup); or None."""
    provider = eta_provider()
    # An ETA is a bonus: whatever goes wrong with it, the page still shows the tracking history.
    try:
        return provided_eta(provider(session, view))
    except Exception:
        log.exception("ETA failed for parcel %s", view.id)
        session.rollback()  # a failed query must not poison the rest of the request
        return None


def _zone(eta: EtaAnswer, view: PublicParcel) -> tzinfo:
    route = eta.estimate.route
    node = network().get(route[-1]) if route else None
    if node and node.get("timezone"):
        try:
            return ZoneInfo(node["timezone"])
        except ZoneInfoNotFoundError:
            pass
    if view.events and view.events[0].occurred_at.tzinfo is not None:
        return view.events[0].occurred_at.tzinfo
    return ZoneInfo("UTC")


def _probability(eta: EtaAnswer) -> float:
    share = eta.confidence
    return share if 0 < share <= 1 else WINDOW_PROBABILITY


def eta_window(eta: EtaAnswer, view: PublicParcel) -> EtaWindow:
    """The ETA as a window of days in the destination's time zone."""
    zone = _zone(eta, view)
    estimate = eta.estimate
    return EtaWindow(
        window=date_window(estimate.p10, estimate.p90, zone),
        probability=percent(_probability(eta)),
        likeliest=day(estimate.p50, zone),
        notes=eta_notes(eta),
    )


def parcel_page(
    view: PublicParcel,
    eta: EtaAnswer | None,
    lang: str,
    *,
    now: datetime | None = None,
    threshold: Threshold = default_threshold,
) -> ParcelPage:
    """Everything the parcel page shows, in ``lang`` (``now`` and ``threshold`` judge a delay)."""
    now = now or datetime.now(UTC)
    paused = waiting_for_payment(view)
    if paused:
        eta = None  # the delivery date waits for the shopper's payment, not for the network
    done, ahead = route_points(view, eta, lang)
    stage = max(
        [stage_of(e.status, e.substatus) for e in view.events] + [stage_of(view.status, view.substatus)]
    )
    if view.status != "delivered":
        stage = min(stage, 3)
    return ParcelPage(
        headline=status_words(view.status, view.substatus),
        stage=stage,
        entries=collapsed([entry(e, lang) for e in view.events]),
        eta=eta_window(eta, view) if eta else None,
        route_map=route_map(done, ahead),
        legs=route_legs(done, ahead),
        stages=[str(s) for s in STAGES],
        customs=customs_notice(view),
        delay=delay_notice(view, place_of(view.events[0], lang) if view.events else "", now, threshold),
        journey=journey_words(view, now),
        eta_paused=paused,
    )
