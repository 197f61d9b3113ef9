"""Holiday pauses (Chinese New Year, Russian January holidays) and working-time arithmetic around them.

Times inside the engine are float hours since the Unix epoch, UTC, so that thousands of Monte Carlo
samples can be moved through a calendar with a few numpy calls.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import numpy as np
import numpy.typing as npt

from routing.network import DATA_DIR, Place

SCHEDULES_FILE = DATA_DIR / "schedules.json"
YEARS = range(2015, 2041)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

FloatArray = npt.NDArray[np.float64]


@lru_cache(maxsize=1)
def schedule_data() -> dict[str, Any]:
    """The timetable defaults and pause rules from ``routing/data/schedules.json``."""
    with SCHEDULES_FILE.open(encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


def to_hours(moment: datetime) -> float:
    """An aware datetime as hours since the epoch (UTC); naive datetimes are taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH).total_seconds() / 3600.0


def from_hours(hours: float) -> datetime:
    """Hours since the epoch as an aware UTC datetime (to the second)."""
    return EPOCH + timedelta(seconds=round(hours * 3600.0))


class Calendar:
    """Pause windows [start, end) in epoch hours, with the sums needed to skip them in bulk."""

    __slots__ = ("_before", "_clock_starts", "ends", "name", "starts")

    def __init__(self, name: str, starts: FloatArray, ends: FloatArray) -> None:
        self.name = name
        self.starts = starts
        self.ends = ends
        # Total pause time before each window, and where each window starts on the working clock.
        self._before = np.concatenate(([0.0], np.cumsum(ends - starts)))
        self._clock_starts = starts - self._before[:-1]

    def working_clock(self, t: FloatArray) -> FloatArray:
        """Working hours elapsed at ``t`` (real time minus all pause time before it)."""
        if self.starts.size == 0:
            return t
        k = np.searchsorted(self.starts, t, side="right") - 1
        j = np.maximum(k, 0)
        inside = np.clip(t - self.starts[j], 0.0, self.ends[j] - self.starts[j])
        spent = np.where(k >= 0, self._before[j] + inside, 0.0)
        return np.asarray(t - spent, dtype=np.float64)

    def real_time(self, w: FloatArray) -> FloatArray:
        """The first real time at which the working clock reads ``w`` and work can go on."""
        k = np.searchsorted(self._clock_starts, w, side="right")
        return np.asarray(w + self._before[k], dtype=np.float64)

    def clear(self, low: float, high: float) -> bool:
        """True when no pause overlaps [low, high] (the common case: pauses are a few days a year)."""
        k = int(np.searchsorted(self.starts, high, side="left"))
        return k == 0 or float(self.ends[k - 1]) <= low

    def work_end(self, start: FloatArray, hours: FloatArray) -> FloatArray:
        """When ``hours`` of work begun at ``start`` end, the clock stopping during pauses."""
        if start.size and self.clear(float(start.min()), float(start.max() + hours.max())):
            return start + hours
        return self.real_time(self.working_clock(start) + hours)

    def resume(self, t: FloatArray) -> FloatArray:
        """``t`` itself, or the end of the pause it falls in."""
        return self.work_end(t, np.zeros_like(t))

    def paused(self, t: FloatArray) -> npt.NDArray[np.bool_]:
        """Which times fall inside a pause."""
        if self.starts.size == 0:
            return np.zeros(np.shape(t), dtype=np.bool_)
        k = np.searchsorted(self.starts, t, side="right") - 1
        return (k >= 0) & (t < self.ends[np.maximum(k, 0)])


def _local_day_start(day: date, zone: ZoneInfo) -> float:
    return to_hours(datetime(day.year, day.month, day.day, tzinfo=zone))


def _windows(days: list[tuple[date, date]], zone: ZoneInfo) -> tuple[FloatArray, FloatArray]:
    starts = [_local_day_start(a, zone) for a, _ in days]
    ends = [_local_day_start(b + timedelta(days=1), zone) for _, b in days]
    return np.array(starts, dtype=np.float64), np.array(ends, dtype=np.float64)


def _spring_festivals() -> list[tuple[date, date]]:
    rule = schedule_data()["pauses"]["cn_new_year"]
    names = tuple(rule["holiday_names"])
    found = holidays.country_holidays("CN", years=YEARS, language="en_US")
    spans = []
    for year in YEARS:
        days = sorted(d for d, n in found.items() if d.year == year and any(x in n for x in names))
        if days:
            before = timedelta(days=rule["slowdown_days_before"])
            after = timedelta(days=rule["slowdown_days_after"])
            spans.append((days[0] - before, days[-1] + after))
    return spans


def _russian_new_years() -> list[tuple[date, date]]:
    found = holidays.country_holidays("RU", years=YEARS)
    spans = []
    for year in YEARS:
        day = date(year, 1, 1)
        while day + timedelta(days=1) in found:
            day += timedelta(days=1)
        spans.append((date(year, 1, 1), day))
    return spans


@lru_cache(maxsize=64)
def pause_calendar(kind: str, timezone: str) -> Calendar:
    """The pause windows of one kind (``cn_new_year`` or ``ru_new_year``) in a place's time zone."""
    spans = _spring_festivals() if kind == "cn_new_year" else _russian_new_years()
    starts, ends = _windows(spans, ZoneInfo(timezone))
    return Calendar(f"{kind}@{timezone}", starts, ends)


def calendar_for(place: Place) -> Calendar | None:
    """The pauses that stop work at a place (its dwells and the legs leaving it), if any."""
    for kind, rule in schedule_data()["pauses"].items():
        roles = rule.get("roles")
        if place.country in rule["countries"] and (roles is None or place.role in roles):
            # Chinese carriers keep Beijing time everywhere, Xinjiang included (network.md, caveat 3).
            zone = "Asia/Shanghai" if place.country == "CN" else place.timezone
            return pause_calendar(kind, zone)
    return None


def country_calendar(country: str) -> Calendar | None:
    """The pauses of a country as a whole (CN or RU, in the capital's time zone)."""
    if country == "CN":
        return pause_calendar("cn_new_year", "Asia/Shanghai")
    if country == "RU":
        return pause_calendar("ru_new_year", "Europe/Moscow")
    return None


def working_time_end(place_country: str, start: datetime, hours: float) -> datetime:
    """When ``hours`` of work begun at ``start`` in a country end, skipping its holiday pauses."""
    calendar = country_calendar(place_country)
    t = np.array([to_hours(start)])
    end = t + hours if calendar is None else calendar.work_end(t, np.array([hours]))
    return from_hours(float(end[0]))
