"""Timetables of scheduled legs, read from the networks' frequency text, and waits for the next departure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from routing.holidays_calendar import (
    YEARS,
    Calendar,
    FloatArray,
    calendar_for,
    from_hours,
    schedule_data,
    to_hours,
)
from routing.network import Leg, Network, load_network

# The frequency texts are press snippets ("3/week Tu-204 (2017)", "avg 13 inbound trains/day"). The
# earliest phrase in the text that one of these patterns recognises decides; ranges take their lower end.
_RATE = re.compile(
    r"(?P<n>\d+(?:\.\d+)?)(?:\s*[–-]\s*\d+(?:\.\d+)?)?(?P<words>(?:\s+(?!t\b)[A-Za-z][\w-]*){0,3})"
    r"\s*/\s*(?P<unit>day|week|month)\b"
)
_KEYWORDS: tuple[tuple[re.Pattern[str], str, float], ...] = (
    (re.compile(r"per flight|24/7"), "continuous", 0.0),
    (re.compile(r"multiple daily"), "day", 4.0),
    (re.compile(r"twice (?:a day|daily)"), "day", 2.0),
    (re.compile(r"\bdaily\b"), "day", 1.0),
    (re.compile(r"\bweekly\b"), "week", 1.0),
)


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a leg departs, in the local time of the place it leaves from.

    ``continuous`` legs leave whenever a parcel is ready (trucks per flight, trains many times a day);
    the others leave at ``hours`` on ``weekdays`` (Monday = 0) or on ``month_days``. ``assumed`` marks
    schedules the source text said nothing about.
    """

    timezone: str
    continuous: bool = False
    hours: tuple[float, ...] = (12.0,)
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)
    month_days: tuple[int, ...] = ()
    cutoff_hours: float = 0.0
    assumed: bool = False
    label: str = ""


def parse_frequency(text: str) -> tuple[str, float] | None:
    """The (unit, count) a frequency text states, e.g. ("week", 3.0); None when it states none."""
    found: list[tuple[int, str, float]] = []
    for pattern, unit, count in _KEYWORDS:
        match = pattern.search(text)
        if match:
            found.append((match.start(), unit, count))
    rate = _RATE.search(text)
    if rate:
        found.append((rate.start(), rate["unit"], float(rate["n"])))
    if not found:
        return None
    _, unit, count = min(found, key=lambda item: item[0])
    return unit, count


def schedule_for_leg(leg: Leg, timezone: str) -> Schedule:
    """The schedule of a leg, from its frequency text and the mode's default departure hour and cut-off."""
    data = schedule_data()
    mode = data["modes"].get(leg.mode, data["modes"]["truck"])
    cutoff, hour = float(mode["cutoff_hours"]), float(mode["departure_hour"])
    stated = parse_frequency(leg.frequency)
    label = leg.frequency or "not stated"
    if stated is None:
        unknown = data["unknown_frequency"]
        return Schedule(timezone, hours=(float(unknown["departure_hour"]),), cutoff_hours=cutoff,
                        assumed=True, label=f"{label} → daily at noon (assumption)")
    unit, count = stated
    per_day = {"continuous": float("inf"), "day": count, "week": count / 7.0, "month": count / 30.0}[unit]
    if per_day >= data["continuous_at_or_above_per_day"]:
        return Schedule(timezone, continuous=True, label=label)
    if per_day >= 1.0:
        n = max(1, int(per_day))
        hours = tuple(sorted((hour + i * 24.0 / n) % 24.0 for i in range(n)))
        return Schedule(timezone, hours=hours, cutoff_hours=cutoff, label=label)
    if unit == "month":
        n = max(1, int(count))
        days = tuple(1 + round(i * 30 / n) for i in range(n))
        return Schedule(timezone, hours=(hour,), month_days=days, cutoff_hours=cutoff, label=label)
    n = max(1, int(count))
    weekdays = tuple(sorted({round(i * 7 / n) % 7 for i in range(n)}))
    return Schedule(timezone, hours=(hour,), weekdays=weekdays, cutoff_hours=cutoff, label=label)


def _all_days() -> npt.NDArray[np.datetime64]:
    return np.arange(f"{YEARS.start}-01-01", f"{YEARS.stop}-01-01", dtype="datetime64[D]")


@lru_cache(maxsize=64)
def _utc_offsets(timezone: str) -> FloatArray:
    """Each covered day's UTC offset in hours at local noon; per month, per day only where it changes."""
    zone = ZoneInfo(timezone)
    days = _all_days()

    def offset(day: np.datetime64) -> float:
        moment = datetime.fromisoformat(str(day)).replace(hour=12, tzinfo=zone)
        delta = moment.utcoffset()
        return 0.0 if delta is None else delta.total_seconds() / 3600.0

    months = days.astype("datetime64[M]")
    starts = np.unique(months)
    by_month = np.array([offset(m.astype("datetime64[D]")) for m in starts])
    result = by_month[np.searchsorted(starts, months)]
    changes = np.flatnonzero(by_month[:-1] != by_month[1:])
    for i in changes:
        inside = np.flatnonzero(months == starts[i])
        result[inside] = [offset(days[j]) for j in inside]
    return np.asarray(result, dtype=np.float64)


@lru_cache(maxsize=1024)
def departure_times(schedule: Schedule, calendar: Calendar | None) -> FloatArray:
    """Every departure of a timed schedule over the covered years, in epoch hours, none inside a pause."""
    days = _all_days()
    if schedule.month_days:
        day_of_month = (days - days.astype("datetime64[M]")).astype(np.int64) + 1
        keep = np.isin(day_of_month, schedule.month_days)
    else:
        weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
        keep = np.isin(weekday, schedule.weekdays)
    offsets = _utc_offsets(schedule.timezone)[keep]
    local_midnight = days[keep].astype(np.int64).astype(np.float64) * 24.0 - offsets
    times = np.sort((local_midnight[:, None] + np.array(schedule.hours)[None, :]).ravel())
    if calendar is not None:
        times = times[~calendar.paused(times)]
    return times


@dataclass(frozen=True, slots=True)
class Departures:
    """A leg's departures, ready to answer "when does the next one leave?" for many parcels at once."""

    schedule: Schedule
    calendar: Calendar | None

    def next(self, ready: FloatArray) -> FloatArray:
        """The departure each parcel ready at ``ready`` (epoch hours) leaves on, cut-off included."""
        if self.schedule.continuous:
            return ready if self.calendar is None else self.calendar.resume(ready)
        times = departure_times(self.schedule, self.calendar)
        wanted = ready + self.schedule.cutoff_hours
        # Search only the stretch of the timetable these parcels can reach: a few dozen departures
        # instead of decades of them, which keeps the binary search in cache (quotes are ~2x faster).
        low = int(np.searchsorted(times, wanted.min(), side="left")) if wanted.size else 0
        high = int(np.searchsorted(times, wanted.max(), side="left")) + 1 if wanted.size else times.size
        window = times[low:high]
        index = np.searchsorted(window, wanted, side="left") + low
        # Beyond the covered years there is no timetable: the parcel leaves when ready.
        found = times[np.minimum(index, times.size - 1)]
        return np.where(index < times.size, found, ready)


def departures_for(leg: Leg, network: Network) -> Departures:
    """The departures of a leg, paused by the holidays of the place it leaves from."""
    place = network.place(leg.origin)
    return Departures(schedule_for_leg(leg, place.timezone), calendar_for(place))


def next_departure(leg: Leg, ready_at: datetime, network: Network | None = None) -> datetime:
    """When a parcel ready at ``ready_at`` leaves on ``leg`` (aware UTC datetime)."""
    departures = departures_for(leg, network or load_network())
    return from_hours(float(departures.next(np.array([to_hours(ready_at)]))[0]))
