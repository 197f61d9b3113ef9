"""Why an in-flight ETA says what it says: its largest factors, each with its effect in hours.

Every in-flight answer names where it counts from (``from_here``: the time to arrival from the parcel's
latest place or milestone), then at most ``MAX_FACTORS`` of what moves it most:

* ``slower_here`` / ``faster_here``: parcels at the latest milestone now wait longer (shorter) for their
  next scan than usual (the milestone model's slowdown, applied to this answer; ``routing.remaining``);
* ``next_departure``: the parcel waits at a place whose next leg leaves on a timetable (the next train,
  flight, ship or truck) a day or more after it is likely ready there, effect the wait from ``as_of``;
* ``holiday``: a holiday pause of a place still ahead (the Spring Festival in China, the New Year
  holidays in Russia) falls before the likeliest arrival, effect the paused hours before it.

``params`` are plain strings (place ids, a mode, ISO 8601 instants, a holiday kind) so that a page can
word each factor in its reader's language; ``text`` is the English wording.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from routing.holidays_calendar import calendar_for, from_hours, to_hours
from routing.model import LegTimeModel
from routing.network import Network
from routing.positions import placed_track
from routing.remaining import milestone
from routing.schedules import Departures, departures_for
from routing.tracks import ParcelTrack, aware, stays

MAX_FACTORS = 3
MIN_EFFECT_HOURS = 2.0  # smaller effects are not worth a sentence
MIN_WAIT_HOURS = 24.0  # a timetable is worth naming when it makes the parcel wait a day or more
HOLIDAY_NAMES = {
    "cn_new_year": "The Spring Festival pause in China",
    "ru_new_year": "The New Year holidays in Russia",
}
VEHICLES = {"rail": "train", "air": "flight", "sea": "ship", "truck": "truck"}


@dataclass(frozen=True, slots=True)
class Factor:
    """One reason of an ETA: a code, its parameters and how many hours it adds (negative: removes)."""

    code: str
    effect_hours: float
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The factor in English words."""
        place = self.params.get("place_name") or "its latest scan"
        change = signed_duration(self.effect_hours)
        if self.code == "from_here":
            return f"Time to arrival from {place}: {duration(self.effect_hours)}"
        if self.code == "slower_here":
            return f"{place} is slower than usual this week: {change}"
        if self.code == "faster_here":
            return f"{place} is faster than usual this week: {change}"
        if self.code == "next_departure":
            vehicle = VEHICLES.get(self.params.get("mode", ""), "departure")
            return f"The next {vehicle} from {place} leaves on {self.departs_at():%A}"
        if self.code == "holiday":
            return f"{HOLIDAY_NAMES.get(self.params.get('holiday', ''), 'A holiday pause')}: {change}"
        return f"{self.code}: {change}"

    def departs_at(self) -> datetime:
        """A ``next_departure``'s departure in the time zone of the place it leaves from."""
        return datetime.fromisoformat(self.params["departs_at"]).astimezone(ZoneInfo(self.params["timezone"]))

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``factors`` items: ``code``, ``text``, ``params``, ``effect_hours``."""
        return {"code": self.code, "text": self.text, "params": dict(self.params),
                "effect_hours": round(self.effect_hours, 1)}


def duration(hours: float) -> str:
    """Hours in English words: "10 hours", "1 day", "3 days"."""
    hours = abs(hours)
    if hours < 24:
        return f"{round(hours)} hours" if round(hours) != 1 else "1 hour"
    days = round(hours / 24)
    return f"{days} days" if days != 1 else "1 day"


def signed_duration(hours: float) -> str:
    """``duration`` with its sign: "+2 days", "−10 hours"."""
    return ("+" if hours >= 0 else "−") + duration(hours)


def factors(
    network: Network, model: LegTimeModel, track: ParcelTrack, as_of: datetime, p50: datetime,
    route: Sequence[str], by_milestone: bool,
) -> tuple[Factor, ...]:
    """The factors of an in-flight answer with likeliest arrival ``p50`` along ``route``: ``from_here``
    first, then the largest others by the size of their effect."""
    as_of = aware(as_of)
    scans = placed_track(network, track).scans_until(as_of)
    known = [s for s in scans if s.place_id in network.places]
    visits = stays(known)
    here = visits[-1] if visits else None
    named = {"place": here.place, "place_name": network.place(here.place).name} if here else {}
    base = Factor("from_here", _hours(p50) - _hours(as_of), named)
    found: list[Factor] = []
    if by_milestone and scans and model.remaining is not None:
        latest = track.scans_until(as_of)[-1]
        slowdown = model.remaining.slowdowns.get(milestone(latest))
        if slowdown is not None:
            elapsed = max((as_of - aware(latest.at)).total_seconds() / 3600.0, 0.01)
            extra = slowdown.extra_hours(elapsed)
            found.append(Factor("slower_here" if extra > 0 else "faster_here", extra, named))
    ahead = list(route)
    if here is not None and here.place in ahead:
        ahead = ahead[ahead.index(here.place):]
        if not here.left and len(ahead) > 1:
            dwell = network.place(here.place).dwell
            ready = max(_hours(as_of), _hours(here.first) + (dwell.typical if dwell else 0.0))
            found += _departure(network, ahead[0], ahead[1], as_of, ready, named)
    found += _holidays(network, ahead, as_of, p50)
    kept = sorted((f for f in found if abs(f.effect_hours) >= MIN_EFFECT_HOURS),
                  key=lambda f: -abs(f.effect_hours))
    return (base, *kept[:MAX_FACTORS])


def _hours(moment: datetime) -> float:
    return to_hours(aware(moment))


def _departure(network: Network, place: str, following: str, as_of: datetime, ready: float,
               named: Mapping[str, str]) -> list[Factor]:
    """The next departure after the parcel is likely ready (``ready``, epoch hours) when the timetable
    makes it wait a day or more; holiday pauses are left to their own factor."""
    leg = network.leg(place, following)
    if leg is None:
        return []
    schedule = departures_for(leg, network).schedule
    if schedule.continuous:
        return []
    now = to_hours(as_of)
    leaves = float(Departures(schedule, None).next(np.array([ready]))[0])
    if leaves - ready < MIN_WAIT_HOURS:
        return []
    mode = next((m for m in VEHICLES if m in leg.mode), leg.mode)
    params = {**named, "mode": mode, "departs_at": from_hours(leaves).isoformat(),
              "timezone": network.place(place).timezone}
    return [Factor("next_departure", leaves - now, params)]


def _holidays(network: Network, ahead: Sequence[str], as_of: datetime, p50: datetime) -> list[Factor]:
    low, high = _hours(as_of), _hours(p50)
    paused: dict[str, tuple[float, float, float]] = {}  # kind -> (hours paused before p50, start, end)
    for place in ahead:
        calendar = calendar_for(network.place(place))
        if calendar is None:
            continue
        kind = calendar.name.split("@")[0]
        hit = (calendar.starts < high) & (calendar.ends > low)
        for start, end in zip(calendar.starts[hit], calendar.ends[hit], strict=True):
            overlap = float(min(end, high) - max(start, low))
            if overlap > paused.get(kind, (0.0, 0.0, 0.0))[0]:
                paused[kind] = (overlap, float(start), float(end))
    return [Factor("holiday", hours, {"holiday": kind, "starts": from_hours(start).isoformat(),
                                      "ends": from_hours(end).isoformat()})
            for kind, (hours, start, end) in paused.items()]
