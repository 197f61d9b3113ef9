"""The world's calendar: Chinese New Year and Russian January pauses, Sundays, office hours, the 11.11 surge.

Holiday dates come from the ``holidays`` package (China's Spring Festival moves every year; Russia's
New Year holidays are 1-8 January). Everything works on aware datetimes and the places' own time zones.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

SURGE_DAY = (11, 11)


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """A cached ZoneInfo."""
    return ZoneInfo(name)


@lru_cache(maxsize=16)
def spring_festival(year: int) -> tuple[date, date]:
    """The days Chinese logistics mostly stops around the Spring Festival: New Year's Eve to a week after."""
    eve = next(
        d for d, name in holidays.country_holidays("CN", years=year).items() if "New Year's Eve" in name
    )
    return eve, eve + timedelta(days=7)


@lru_cache(maxsize=16)
def russian_days_off(year: int) -> frozenset[date]:
    """Russia's public holidays and bridge days of a year."""
    return frozenset(holidays.country_holidays("RU", years=year))


def in_spring_festival(day: date) -> bool:
    """True during the Spring Festival pause."""
    start, end = spring_festival(day.year)
    return start <= day <= end


def after_spring_festival(moment: datetime, tz: str) -> datetime:
    """Move a Chinese-side moment past the Spring Festival pause, if it falls inside."""
    local = moment.astimezone(zone(tz))
    if not in_spring_festival(local.date()):
        return moment
    _, end = spring_festival(local.date().year)
    return datetime.combine(end + timedelta(days=1), local.timetz()).astimezone(moment.tzinfo)


def russian_working(moment: datetime, tz: str, *, sunday_closed: bool) -> datetime:
    """Move a Russian-side moment past the January holidays (and Sundays for offices that close)."""
    local = moment.astimezone(zone(tz))
    day = local.date()
    moved = False
    while (day.month == 1 and day.day <= 8) or (sunday_closed and (day.weekday() == 6 or day in _off(day))):
        day += timedelta(days=1)
        moved = True
    if not moved:
        return moment
    return datetime.combine(day, time(9, 0), tzinfo=zone(tz)).astimezone(moment.tzinfo)


def _off(day: date) -> frozenset[date]:
    return russian_days_off(day.year)


def office_hours(moment: datetime, tz: str, opens: int = 9, closes: int = 20) -> datetime:
    """The moment itself if the office is open then, else the next opening time."""
    local = moment.astimezone(zone(tz))
    if opens <= local.hour < closes:
        return moment
    day = local.date() if local.hour < opens else local.date() + timedelta(days=1)
    return datetime.combine(day, time(opens, 0), tzinfo=zone(tz)).astimezone(moment.tzinfo)


def surge_factor(day: date, days: int, peak: float, tail: float) -> float:
    """Order volume relative to normal: from ``peak`` on 11 November down to ``tail`` ``days`` later."""
    start = date(day.year, *SURGE_DAY)
    offset = (day - start).days
    if 0 <= offset < days:
        return peak - (peak - tail) * offset / max(days - 1, 1)
    return 1.0


def customs_backlog(day: date) -> float:
    """How much longer customs takes after the 11.11 wave reaches Russia (1.0 = normal)."""
    offset = (day - date(day.year, *SURGE_DAY)).days
    if 4 <= offset < 14:
        return 1.0 + 1.5 * (offset - 4) / 10
    if 14 <= offset <= 34:
        return 1.0 + 1.5 * (34 - offset) / 20
    return 1.0
