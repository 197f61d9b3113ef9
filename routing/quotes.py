"""Quote arithmetic in bulk: the quotes that share a sampling plan run as the rows of one numpy array.

A quote hands the plan's pre-drawn durations to a parcel ready at its ship time, so quotes on one route
(same service, origin and destination) differ only in where they start: they run together as an array
of shape (quotes, samples), one row per quote, and each row comes out as it would alone (nothing one
row does depends on another). Quotes asked twice (same plan, same ship time) are computed once.

The steps mirror :meth:`routing.plans.Step.advance`, except that a holiday calendar is consulted only
for the samples whose span meets one of its pauses (the others simply add their duration, which is what
the calendar's arithmetic gives for them too). tests/routing/test_quotes.py holds the two to the same
answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from routing.holidays_calendar import Calendar, FloatArray
from routing.network import Network
from routing.plans import Plan, Step
from routing.schedules import Departures, Schedule, departure_times, departures_for

# Rows per numpy pass: 32 quotes x 2,000 samples keep each array near 512 kB (in cache, and bounded).
CHUNK_ROWS = 32
# Rows per percentile call: np.percentile's fixed cost is paid once per slice instead of once per quote.
PERCENTILE_ROWS = 64
QUANTILES = (10.0, 50.0, 90.0)
# Timetable grid cells are never narrower than this (bounds a grid's size whatever the timetable).
MIN_CELL_HOURS = 0.25


@dataclass(frozen=True, slots=True)
class QuoteAsk:
    """One pre-shipment quote request: city names or place ids, a service code and the hand-over time."""

    origin: str
    destination: str
    service: str
    ship_at: datetime


def plan_quantiles(jobs: Sequence[tuple[Plan, float]], samples: int) -> FloatArray:
    """The p10, p50 and p90 arrival (epoch hours) of each (plan, ship time) job: shape (len(jobs), 3).

    Jobs on one plan run together; a job's answer does not depend on the other jobs.
    """
    groups: dict[int, tuple[Plan, list[int]]] = {}
    for index, (plan, _) in enumerate(jobs):
        groups.setdefault(id(plan), (plan, []))[1].append(index)
    runs = []
    for plan, members in groups.values():
        hours = np.array([jobs[i][1] for i in members], dtype=np.float64)
        starts, which = np.unique(hours, return_inverse=True)
        runs.append((plan, starts, members, which))
    arrived = np.empty((sum(len(run[1]) for run in runs), samples), dtype=np.float64)
    order = np.empty(len(jobs), dtype=np.intp)  # each job's row in ``arrived``
    row = 0
    for plan, starts, members, which in runs:
        for low in range(0, len(starts), CHUNK_ROWS):
            chunk = starts[low : low + CHUNK_ROWS]
            arrived[row + low : row + low + len(chunk)] = arrivals(plan, chunk, samples)
        order[members] = row + which
        row += len(starts)
    table = np.empty((len(arrived), len(QUANTILES)), dtype=np.float64)
    for low in range(0, len(arrived), PERCENTILE_ROWS):
        rows = arrived[low : low + PERCENTILE_ROWS]
        table[low : low + len(rows)] = np.percentile(rows, QUANTILES, axis=1).T
    return table[order]


def arrivals(plan: Plan, starts: FloatArray, samples: int) -> FloatArray:
    """Arrival samples (epoch hours), one row per quote handed over at ``starts``: shape (quotes, samples)."""
    t = np.repeat(np.asarray(starts, dtype=np.float64)[:, None], samples, axis=1)
    for step in plan.steps:
        t = _advance(step, t, step.samples[:samples])
    return t


def _advance(step: Step, t: FloatArray, durations: FloatArray) -> FloatArray:
    """Times after ``step`` for rows of parcels ready at ``t``: :meth:`Step.advance`, row-wise."""
    if step.kind == "dwell":
        return t + durations if step.calendar is None else _work_end(step.calendar, t, durations)
    if step.departures is not None:
        t = _next_departure(step.departures, t)
    elif step.calendar is not None:
        t = _work_end(step.calendar, t, np.zeros_like(durations))
    if step.arrival_calendar is not None:
        return _work_end(step.arrival_calendar, t, durations)
    return t + durations


def _next_departure(departures: Departures, t: FloatArray) -> FloatArray:
    """:meth:`Departures.next` for rows: the same departures, looked up in a grid instead of searched."""
    if departures.schedule.continuous:
        if departures.calendar is None:
            return t
        return _work_end(departures.calendar, t, np.zeros(t.shape[1], dtype=np.float64))
    table = _timetable(departures.schedule, departures.calendar)
    index = table.first_at_or_after(t + departures.schedule.cutoff_hours)
    leaves = table.times[index]
    if int(index.max()) >= table.size:
        # Beyond the covered years there is no timetable: the parcel leaves when ready.
        leaves = np.where(index < table.size, leaves, t)
    return leaves


@dataclass(frozen=True, slots=True)
class _Timetable:
    """A timetable's departures with a grid over time, so that finding the next one takes no search.

    Cells are half as wide as the shortest gap between departures. ``first[c]`` is the first departure
    at or after a quarter cell before cell ``c`` begins (a margin far wider than any rounding of the
    cell a time falls in), so the first departure at or after a time in cell ``c`` is ``first[c]`` or at
    most ``crowd`` places later (one, unless departures share an instant). Binary searches over thousands
    of unpredictable times stall the processor on every branch; these lookups do not branch.
    """

    times: FloatArray  # the departures, then +inf padding
    size: int  # how many departures
    base: float
    per_hour: float  # cells per hour
    first: npt.NDArray[np.int32]
    crowd: int

    def first_at_or_after(self, wanted: FloatArray) -> npt.NDArray[np.int32]:
        """``np.searchsorted(departures, wanted, side="left")``, elementwise."""
        cell = ((wanted - self.base) * self.per_hour).astype(np.intp)
        np.maximum(cell, 0, out=cell)
        np.minimum(cell, self.first.size - 1, out=cell)
        index = self.first[cell]
        for _ in range(self.crowd):
            index += self.times[index] < wanted
        return index


@lru_cache(maxsize=1024)
def _timetable(schedule: Schedule, calendar: Calendar | None) -> _Timetable:
    times = departure_times(schedule, calendar)
    gaps = np.diff(times)
    gaps = gaps[gaps > 0]
    width = max(float(gaps.min()) / 2 if gaps.size else 12.0, MIN_CELL_HOURS)
    base = float(times[0]) - width if times.size else 0.0
    cells = int((float(times[-1]) - base) / width) + 2 if times.size else 1
    starts = base + np.arange(cells + 1) * width
    first = np.searchsorted(times, starts - width / 4, side="left")
    # Departures a time in cell c may have to step over: those from first[c] to a quarter cell past c.
    crowd = int((np.searchsorted(times, starts[1:] + width / 4, side="left") - first[:-1]).max())
    padded = np.concatenate([times, np.full(crowd + 1, np.inf)])
    return _Timetable(padded, int(times.size), base, 1.0 / width, first[:-1].astype(np.int32), crowd)


def _work_end(calendar: Calendar, t: FloatArray, durations: FloatArray) -> FloatArray:
    """:meth:`Calendar.work_end` for rows: only samples whose work meets a pause go through the calendar.

    ``Calendar.work_end`` takes the whole array through its working clock as soon as any sample of it
    meets a pause, and heavy-tailed dwells make that common; here a sample that meets none just adds.
    """
    end = t + durations
    if calendar.starts.size == 0:
        return end
    for row in np.flatnonzero(_meets_pause(calendar, t.min(axis=1), end.max(axis=1))):
        hit = _meets_pause(calendar, t[row], end[row])
        clock = calendar.working_clock(t[row, hit]) + durations[hit]
        end[row, hit] = calendar.real_time(clock)
    return end


def _meets_pause(calendar: Calendar, low: FloatArray, high: FloatArray) -> npt.NDArray[np.bool_]:
    """Whether a pause starts at or before ``high`` and ends after ``low`` (elementwise)."""
    k = np.searchsorted(calendar.starts, high, side="right")
    return (k > 0) & (calendar.ends[np.maximum(k - 1, 0)] > low)


def warm_timetables(network: Network) -> int:
    """Build every leg's timetable grid and pause calendar now (per process, cached), so the first quotes
    of a worker do not pay for them; under gunicorn's ``preload_app`` the forked workers share them.
    Returns how many timed legs were prepared."""
    timed = 0
    for origin, destination in network.graph.edges:
        for leg in network.legs_between(origin, destination):
            departures = departures_for(leg, network)
            if not departures.schedule.continuous:
                _timetable(departures.schedule, departures.calendar)
                timed += 1
    return timed
