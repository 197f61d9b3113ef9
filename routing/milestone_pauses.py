"""Holiday pauses in the milestone model's answers, from the calendar when its history did not hold them.

The hours to arrival by milestone (``routing.remaining``) are learned from the weeks before the model's
``trained_at``: a holiday in those weeks is in the curves already, and any other is not. So when a
parcel's answer reaches into a pause its history did not hold, its hours run on the working clock of
the pauses still ahead of it: the Spring Festival (first mile and Chinese customs, Beijing time) and the
Russian New Year holidays (the last mile, Moscow time) for a parcel last scanned in China, the Russian
New Year holidays for a parcel in Russia. A pause counts as held by the history when it overlaps the
model's last ``half_life_days`` (the weeks that weigh most in its curves).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np

from routing.holidays_calendar import Calendar, from_hours, pause_calendar, to_hours
from routing.tracks import aware

PAUSES_AHEAD = {
    "CN": ("cn_new_year", "ru_new_year"),
    "HK": ("cn_new_year", "ru_new_year"),
    "RU": ("ru_new_year",),
}
ZONES = {"cn_new_year": "Asia/Shanghai", "ru_new_year": "Europe/Moscow"}


def pauses_ahead(country: str | None, learned_at: datetime | None, half_life_days: float) -> Calendar | None:
    """The pauses ahead of a parcel last scanned in ``country`` that the model learned at ``learned_at``
    has not seen (None: none)."""
    kinds = PAUSES_AHEAD.get(country or "", ())
    if not kinds:
        return None
    high = to_hours(aware(learned_at)) if learned_at else -np.inf
    low = high - half_life_days * 24 if learned_at else -np.inf
    windows: list[tuple[float, float]] = []
    for kind in kinds:
        calendar = pause_calendar(kind, ZONES[kind])
        unseen = ~((calendar.starts < high) & (calendar.ends > low))
        windows += zip(calendar.starts[unseen].tolist(), calendar.ends[unseen].tolist(), strict=True)
    merged: list[list[float]] = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    if not merged:
        return None
    starts, ends = (np.array(column, dtype=np.float64) for column in zip(*merged, strict=True))
    return Calendar(f"milestone:{'+'.join(kinds)}", starts, ends)


def through_pauses(quantiles: Sequence[datetime], as_of: datetime, calendar: Calendar) -> list[datetime]:
    """Arrival quantiles whose hours from ``as_of`` run on ``calendar``'s working clock."""
    start = to_hours(aware(as_of))
    hours = np.array([max(to_hours(aware(q)) - start, 0.0) for q in quantiles])
    return [from_hours(float(end)) for end in calendar.work_end(np.full(hours.shape, start), hours)]

