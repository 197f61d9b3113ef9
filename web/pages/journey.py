"""How long the parcel has been travelling, and whether its silence is longer than usual, in plain words.

The silence is judged by the rule the scheduler flags stalled parcels by (``tracking.stalled``): the
threshold for the place of the newest scan and the parcel's status, learned from the ETA model's dwell
times where it can be (``web.eta.stalls.stall_threshold``: the 95th centile plus half a day), else the
fixed table. A parcel waiting for the shopper to pay a duty is not "delayed": it waits for them.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.orm import Session

from tracking.queries import PublicParcel
from tracking.stalled import Threshold, default_threshold
from web.eta.stalls import stall_threshold
from web.pages.customs import waiting_for_payment

log = logging.getLogger("silkway.web.pages")

DAY = timedelta(days=1)
FINISHED = frozenset({"delivered", "expired"})
FIRST_MILE = frozenset({"pending", "info_received"})


def page_threshold(session: Session) -> Threshold:
    """The stalled-parcel threshold the scheduler uses (learned where it can be); the fixed table if the
    ETA model cannot be read, so that the page still shows."""
    try:
        return stall_threshold(session)
    except Exception:
        log.exception("stall threshold unavailable; using the fixed table")
        session.rollback()
        return default_threshold


def days(count: int) -> str:
    """A number of days in words (``6 дней``, ``1 day``)."""
    return str(ngettext("%(num)d day", "%(num)d days", count))


def delay_notice(view: PublicParcel, place: str, now: datetime, threshold: Threshold) -> str | None:
    """Words such as "No news for 6 days at <place>; parcels usually move on from there within 2 days",
    or None when the parcel is not silent for longer than usual there (or is finished, or waits for a
    payment)."""
    if view.status in FINISHED or view.substatus == "returned" or not view.events:
        return None
    if waiting_for_payment(view):
        return None
    latest = view.events[0]
    since = view.last_event_at or latest.occurred_at
    silent = now - since
    usual = threshold(latest.place_id, view.status, view.substatus)
    if silent <= usual:
        return None
    silence, within = days(int(silent / DAY)), days(max(1, math.ceil(usual / DAY)))
    if place:
        words = _(
            "No news for %(silence)s at %(place)s; parcels usually move on from there within %(usual)s.",
            silence=silence,
            place=place,
            usual=within,
        )
    else:
        words = _(
            "No news for %(silence)s; parcels usually get a new scan within %(usual)s.",
            silence=silence,
            usual=within,
        )
    return str(words)


def journey_words(view: PublicParcel, now: datetime) -> str | None:
    """Words such as "Delivered in 12 days" or "9 days in transit", counted from the first scan of the
    parcel moving (labels and registrations do not count); None before the first such scan."""
    moving = [e for e in view.events if e.status not in FIRST_MILE]
    if not moving:
        return None
    start = moving[-1].occurred_at
    if view.status == "delivered":
        end = next((e.occurred_at for e in moving if e.status == "delivered"), moving[0].occurred_at)
        count = max(1, round((end - start) / DAY))
        return str(ngettext("Delivered in %(num)d day", "Delivered in %(num)d days", count))
    if view.status in FINISHED:
        return None
    count = max(0, int((now - start) / DAY))
    return str(ngettext("%(num)d day in transit", "%(num)d days in transit", count))
