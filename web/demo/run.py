"""A world in motion: parcels generated day by day, their scans queued until their carriers report them.

Shared by the one-off build (``silkway demo``) and live mode: both ask for what became due up to a
moment and send it; neither ever sends a scan reported after that moment.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from web.demo.calendar import zone
from web.demo.emit.feed import Delivery, schedule
from web.demo.journeys import BEIJING, Journey, journey
from web.demo.world import World


@dataclass
class WorldRun:
    """Journeys generated so far and the scans not yet sent, in the order they fall due."""

    world: World
    first_day: date | None = None
    journeys: dict[str, Journey] = field(default_factory=dict)
    _due: list[tuple[datetime, int, Delivery]] = field(default_factory=list)
    _orders: list[tuple[datetime, int, Journey]] = field(default_factory=list)
    _next_day: date | None = None
    _seq: int = 0

    def extend(self, until: datetime, skip_before: datetime | None = None) -> None:
        """Generate the orders of every day up to ``until`` (plus one: Beijing is ahead of UTC).

        ``skip_before`` drops deliveries already sent (live mode resuming a built world).
        """
        last = until.astimezone(zone(BEIJING)).date() + timedelta(days=1)
        day = self._next_day or max(self.world.start, self.first_day or self.world.start)
        while day <= last:
            for plan in self.world.parcels_for_day(day):
                trip = journey(self.world, plan)
                self.journeys[plan.number] = trip
                self._seq += 1
                heapq.heappush(self._orders, (plan.ordered_at, self._seq, trip))
                for delivery in schedule(self.world, trip):
                    if skip_before is not None and delivery.due <= skip_before:
                        continue
                    self._seq += 1
                    heapq.heappush(self._due, (delivery.due, self._seq, delivery))
            day += timedelta(days=1)
        self._next_day = day

    def due(self, until: datetime) -> list[Delivery]:
        """Every delivery due by ``until``, taken off the queue."""
        out = []
        while self._due and self._due[0][0] <= until:
            out.append(heapq.heappop(self._due)[2])
        return out

    def ordered(self, until: datetime) -> list[Journey]:
        """Every parcel ordered by ``until`` and not yet handed out, taken off the queue."""
        out = []
        while self._orders and self._orders[0][0] <= until:
            out.append(heapq.heappop(self._orders)[2])
        return out

    def requeue(self, deliveries: list[Delivery], orders: list[Journey]) -> None:
        """Put back what could not be sent (the server was unreachable); it goes out next time."""
        for delivery in deliveries:
            self._seq += 1
            heapq.heappush(self._due, (delivery.due, self._seq, delivery))
        for trip in orders:
            self._seq += 1
            heapq.heappush(self._orders, (trip.plan.ordered_at, self._seq, trip))

    def placed_by(self, moment: datetime) -> list[Journey]:
        """The journeys whose order was placed by ``moment``."""
        return [j for j in self.journeys.values() if j.plan.ordered_at <= moment]


def world_start(now: datetime, days: int) -> datetime:
    """The first instant of a world of ``days`` days ending ``now``: midnight, Beijing time."""
    first = (now - timedelta(days=days)).astimezone(zone(BEIJING)).date() + timedelta(days=1)
    return datetime.combine(first, time(0, 0), tzinfo=zone(BEIJING)).astimezone(UTC)
