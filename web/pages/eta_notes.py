"""What the parcel page says under its delivery window, in the reader's language: whether the window
comes from the network prior alone, and the ETA's largest factors (routing.factors) in words."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton, format_timedelta
from flask_babel import gettext as _

from routing.eta import EtaAnswer
from routing.factors import Factor
from web.pages.i18n import current_language
from web.pages.map_svg import place_name


def eta_notes(eta: EtaAnswer) -> tuple[str, ...]:
    """The notes under the delivery window: the network prior's note (no model learned from scans yet),
    then each factor of the answer that has words."""
    notes = [_("Estimate from the network, not yet from scans.")] if eta.estimate.from_prior else []
    lang = current_language()
    notes += [words for f in eta.estimate.factors if (words := factor_words(f, lang))]
    return tuple(notes)


def span(hours: float, lang: str) -> str:
    """A duration as people say it in ``lang`` (``6 дней``, ``10 hours``)."""
    return str(format_timedelta(timedelta(hours=abs(hours)), locale=lang))


def change(hours: float, lang: str) -> str:
    """A duration added (``+2 дня``) or taken off (``−10 hours``)."""
    return ("+" if hours >= 0 else "−") + span(hours, lang)


def _departure_day(factor: Factor, lang: str) -> str:
    leaves = datetime.fromisoformat(factor.params["departs_at"])
    zone = ZoneInfo(factor.params.get("timezone") or "UTC")
    return str(format_skeleton("MMMMEEEEd", leaves.astimezone(zone), tzinfo=zone, locale=lang))


def factor_words(factor: Factor, lang: str) -> str | None:
    """One factor in ``lang``, or None for a factor this page has no words for."""
    words = _worded(factor, lang)
    return None if words is None else str(words)


def _worded(factor: Factor, lang: str) -> object:
    place = place_name(factor.params.get("place"), lang) or factor.params.get("place_name")
    hours = factor.effect_hours
    plus = change(hours, lang)
    if factor.code == "from_here":
        if place:
            return _("Time to arrival from %(place)s: %(duration)s", place=place, duration=span(hours, lang))
        return _("Time to arrival from the latest scan: %(duration)s", duration=span(hours, lang))
    if factor.code == "slower_here" and place:
        return _("%(place)s is slower than usual this week: %(change)s", place=place, change=plus)
    if factor.code == "faster_here" and place:
        return _("%(place)s is faster than usual this week: %(change)s", place=place, change=plus)
    if factor.code == "next_departure" and place:
        when = _departure_day(factor, lang)
        mode = factor.params.get("mode")
        if mode == "rail":
            return _("The next train from %(place)s leaves on %(day)s", place=place, day=when)
        if mode == "air":
            return _("The next flight from %(place)s leaves on %(day)s", place=place, day=when)
        if mode == "sea":
            return _("The next ship from %(place)s leaves on %(day)s", place=place, day=when)
        if mode == "truck":
            return _("The next truck from %(place)s leaves on %(day)s", place=place, day=when)
        return _("The next departure from %(place)s is on %(day)s", place=place, day=when)
    if factor.code == "holiday":
        holiday = factor.params.get("holiday")
        if holiday == "cn_new_year":
            return _("The Spring Festival pause in China: %(change)s", change=plus)
        if holiday == "ru_new_year":
            return _("The New Year holidays in Russia: %(change)s", change=plus)
    return None
