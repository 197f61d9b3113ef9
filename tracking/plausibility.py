"""How far from now a time may plausibly be: the windows every door checks, in one place.

docs/contract.md ("Plausible times") lists them for users, and the OpenAPI descriptions quote them:

- an event's ``occurred_at``: from 2010-01-01 (UTC) up to one day after now. The corridor's parcel flow
  starts with AliExpress, launched in 2010: a scan stamped earlier is a broken clock or a placeholder
  (``0001-01-01``, ``1970-01-01``, ``2000-01-01``), not a parcel Silkway could track.
  A day ahead covers carriers' clocks and zones (a local time sent with the wrong offset is off by at most
  14 hours) and no more: tracking.ingest refuses the same day ahead (``MAX_FUTURE``);
- a parcel's or quote's ``ship_at``: from 2010-01-01 up to a year after now. Not "a year before now":
  merchants register parcels shipped long ago (importing their order history), quotes are asked for past
  hand-overs (backtests, "what would it have said"), and the demo world replays a fixed past. A year
  ahead is generous for a planned hand-over; beyond it the timetables and the model say nothing;
- an ETA's ``as_of``: from 2010-01-01 up to a year after now (backtests and audits look back; a year
  ahead is a plan, not a forecast of a parcel's scans).

Times are checked in UTC, so an offset that pushes a time past the calendar (``9999-12-31T23:59:59-14:00``)
is refused like any other time out of its window, never an overflow. Pure: no database, ``now`` is passed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from tracking.events import ItemError, ParseResult

EARLIEST = datetime(2010, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Window:
    """The instants from ``earliest`` to ``future`` after now."""

    rule: str  # how the docs and answers state it
    earliest: datetime
    future: timedelta

    def bounds(self, now: datetime) -> tuple[datetime, datetime]:
        """The first and last instants the window allows at ``now``."""
        return self.earliest, now.astimezone(UTC) + self.future

    def check(self, moment: datetime, now: datetime, field: str) -> str | None:
        """Why ``moment`` (timezone-aware) is out of the window, as an error naming ``field``; or None."""
        instant = to_utc(moment)
        if instant is None:
            return f"{field} {moment.isoformat()} is not a time Silkway can place in UTC; {field} {self.rule}"
        first, last = self.bounds(now)
        if not first <= instant <= last:
            return f"{field} {instant.isoformat()} is out of range: {field} {self.rule}"
        return None


EVENT_TIME = Window("must be from 2010-01-01T00:00:00Z to one day after now", EARLIEST, timedelta(days=1))
SHIP_AT = Window("must be from 2010-01-01T00:00:00Z to one year after now", EARLIEST, timedelta(days=365))
AS_OF = Window("must be from 2010-01-01T00:00:00Z to one year after now", EARLIEST, timedelta(days=365))


def to_utc(moment: datetime) -> datetime | None:
    """``moment`` in UTC, or None when it cannot be (naive, or past the calendar's ends once in UTC)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        return None
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def screen_event_times(parsed: ParseResult, now: datetime) -> ParseResult:
    """``parsed`` with every event whose ``occurred_at`` is out of EVENT_TIME moved to the per-item errors.

    The error names the payload item (its index) and the field ``occurred_at``, so an atomic batch is
    refused listing it and ``?partial=true`` keeps the other items.
    """
    kept, indexes, errors = [], [], list(parsed.errors)
    for event, index in zip(parsed.events, parsed.indexes, strict=True):
        problem = EVENT_TIME.check(event.occurred_at, now, "occurred_at")
        if problem is None:
            kept.append(event)
            indexes.append(index)
        else:
            errors.append(ItemError(index, problem, "occurred_at"))
    if len(kept) == len(parsed.events):
        return parsed
    return replace(parsed, events=kept, indexes=indexes, errors=errors)
