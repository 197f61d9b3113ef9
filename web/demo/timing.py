"""How long things take: log-normal durations around a typical figure, and scheduled departures."""

from __future__ import annotations

import math
import random
import re
import zlib
from datetime import datetime, timedelta

from routing.network import Leg, TimeRange
from web.demo import calendar


def lognormal(rng: random.Random, span: TimeRange, scale: float = 1.0) -> timedelta:
    """A duration around ``typical`` (the median) with ``max`` as the 95th centile, never below ``min``."""
    typical = max(span.typical, 0.05)
    sigma = math.log(max(span.max, typical * 1.05) / typical) / 1.645
    hours = typical * math.exp(rng.gauss(0.0, sigma))
    hours = min(max(hours, span.min), span.max * 1.5)
    return timedelta(hours=hours * scale)


def hours(rng: random.Random, low: float, high: float) -> timedelta:
    """A uniform duration in hours."""
    return timedelta(hours=rng.uniform(low, high))


def weekly_departures(leg: Leg) -> int | None:
    """How many scheduled departures a leg has a week; None for trucks and other continuous flows."""
    text = leg.frequency.lower()
    if leg.mode in {"truck", "truck_or_rail", "rail_or_air"} or "multiple daily" in text or "/day" in text:
        return None
    match = re.search(r"(\d+)(?:\s*[–-]\s*\d+)?\s*/\s*week", text)
    if match:
        return min(int(match.group(1)), 7)
    if "daily" in text:
        return 7
    if "weekly" in text:
        return 2 if "+" in text else 1
    return {"air": 7, "rail": 3, "sea": 2}.get(leg.mode)


def next_departure(leg: Leg, ready: datetime, tz: str, rng: random.Random) -> datetime:
    """The first scheduled departure a parcel ready at ``ready`` can make (3 h cut-off), or a truck's."""
    per_week = weekly_departures(leg)
    if per_week is None:
        return ready + hours(rng, 0.5, 10)
    salt = zlib.crc32(leg.id.encode())
    hour, minute = 1 + salt % 22, (salt // 22) % 60
    days = {(salt + round(k * 7 / per_week)) % 7 for k in range(per_week)}
    local = (ready + timedelta(hours=3)).astimezone(calendar.zone(tz))
    for offset in range(15):
        day = local.date() + timedelta(days=offset)
        slot = datetime(day.year, day.month, day.day, hour, minute, tzinfo=calendar.zone(tz))
        if day.weekday() in days and slot >= local:
            if rng.random() < 0.03:  # offloaded or cancelled: the next one
                continue
            return slot.astimezone(ready.tzinfo) + timedelta(minutes=rng.uniform(0, 90))
    return ready + timedelta(days=7)
