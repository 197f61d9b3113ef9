"""One parcel's true journey: every scan each carrier makes, when, where, and how the parcel ends.

Leg times are drawn log-normally around the network's typical figure (its max read as the 95th
centile), flights and trains leave on schedules with cut-offs, customs dwell grows after 11.11 and
sometimes turns into a long hold, China stops for the Spring Festival, Russia for its January holidays
and partly on Sundays, and a few per cent of parcels are lost, refused or sent back by customs.
The scans are kept in the carriers' own codes; ``web.demo.emit_*`` turn them into native payloads.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from routing.network import Leg, TimeRange
from web.demo import calendar
from web.demo.scans import (
    BEIJING,
    CDEK,
    CN,
    DEFAULT_CUSTOMS,
    EXCHANGE_ROLES,
    HOLD,
    PROTECTED,
    RP,
    Journey,
    Scan,
)
from web.demo.timing import hours, lognormal, next_departure
from web.demo.walker import Walker
from web.demo.world import ParcelPlan, World

__all__ = ["BEIJING", "CDEK", "CN", "PROTECTED", "RP", "Journey", "Scan", "journey"]


class _Trip(Walker):
    """Walks one parcel along its route, from the merchant to the Russian city."""

    def run(self) -> Journey:
        rates, roll = self.rates, self.rng.random()
        fate = "delivered"
        if roll < rates["lost"]:
            fate = "lost"
        elif roll < rates["lost"] + rates["refused"]:
            fate = "refused"
        elif roll < rates["lost"] + rates["refused"] + rates["customs_return"]:
            fate = "customs_return"
        t = self.abroad(self.origin())
        t, released = self.customs_clearance(t, refuse=fate == "customs_return")
        if released:
            self.deliver(self.domestic(t), refuse=fate == "refused")
        if fate == "lost":
            self.lose()
        self.scans.sort(key=lambda s: s.at)
        self._separate_minutes()
        shipped = next(s.at for s in self.scans if s.code == "PU_PICKUP_SUCCESS")
        if fate == "lost":
            return Journey(self.plan, self.scans, "lost", self.scans[-1].at, None, shipped)
        if self.returning is not None:
            return Journey(self.plan, self.scans, "returned", self.returning.at, None, shipped)
        assert self.delivered is not None
        at = self.delivered.at
        return Journey(self.plan, self.scans, "delivered", at, at, shipped)

    def origin(self) -> datetime:
        rng, node = self.rng, self.plan.origin
        t = self.scan(CN, "GWMS_ACCEPT", self.plan.ordered_at, node)
        pickup = self.cn_time(t + hours(rng, 2, 30))
        self.scan(CN, "PU_PICKUP_SUCCESS", pickup, node)
        sort_in = self.scan(CN, "SC_INBOUND_SUCCESS", pickup + hours(rng, 0.5, 6), node)
        handling = self.world.catalog.get(self.plan.service).handling
        ready = self.cn_time(max(sort_in + timedelta(hours=1), pickup + lognormal(rng, handling)))
        return self.scan(CN, "SC_OUTBOUND_SUCCESS", ready, node)

    def abroad(self, t: datetime) -> datetime:
        """From the origin to the first Russian node: hubs, gateways, borders, transit countries."""
        rng, route = self.rng, self.route
        for i in range(1, self.first_ru + 1):
            prev, node = route[i - 1], route[i]
            leg = self._leg(prev, node)
            depart = next_departure(leg, t, self._tz(prev), rng)
            if self.world.place(prev).country == "CN":
                depart = self.cn_time(depart)
            if i > 1:
                self._leave(prev, leg, t, depart)
            arrive = depart + lognormal(rng, leg.hours)
            t = self._arrive(node, arrive)
        return t

    def _leave(self, node: str, leg: Leg, ready: datetime, depart: datetime) -> None:
        role = self._role(node)
        if role == "export_consolidation_hub":
            self.scan(CN, "CW_OUTBOUND", depart, node)
        elif role.startswith("border_crossing_transit") or role == "transit_node":
            self.scan(CN, "TD_TRANS_DEPART", depart, node)
        elif role.startswith(("export_gateway", "border_crossing_cn")):
            if leg.mode == "air":
                handed = max(ready + timedelta(minutes=20), depart - hours(self.rng, 2, 5))
                self.scan(CN, "LH_HO_AIRLINE", handed, node)
            self.scan(CN, "LH_DEPART", depart, node)

    def _arrive(self, node: str, arrive: datetime) -> datetime:
        rng, place = self.rng, self.world.place(node)
        role = place.role
        if place.country == "RU":
            return self.scan(CN, "LH_ARRIVE", arrive, node)
        if role == "export_consolidation_hub":
            arrive = self.cn_time(arrive)
            self.scan(CN, "CW_INBOUND", arrive, node)
            return arrive + lognormal(rng, place.dwell or TimeRange(12, 24, 72))
        if role.startswith(("export_gateway", "border_crossing_cn")):
            arrive = self.cn_time(arrive)
            self.scan(CN, "LH_HO_IN_SUCCESS", arrive, node)
            dwell = lognormal(rng, place.dwell or TimeRange(4, 12, 36))
            self.scan(CN, "CC_EX_START", arrive + dwell * rng.uniform(0.1, 0.3), node)
            done = self.cn_time(arrive + dwell * rng.uniform(0.5, 0.9))
            self.scan(CN, "CC_EX_SUCCESS", done, node)
            return max(done + timedelta(minutes=30), arrive + dwell)
        self.scan(CN, "TD_TRANS_ARRIVE", arrive, node)
        return arrive + hours(rng, 1, 8)

    def _leg(self, prev: str, node: str) -> Leg:
        modes = self.world.catalog.get(self.plan.service).modes
        leg = self.world.network.leg(prev, node, modes) or self.world.network.leg(prev, node)
        assert leg is not None, f"no leg {prev} -> {node}"
        return leg

    def customs_clearance(self, t: datetime, refuse: bool) -> tuple[datetime, bool]:
        """Reach the customs node, clear (or not) and hand over to the last-mile carrier."""
        rng, route = self.rng, self.route
        for i in range(self.first_ru + 1, self.customs + 1):
            leg = self._leg(route[i - 1], route[i])
            t = next_departure(leg, t + hours(rng, 0.5, 6), self._tz(route[i - 1]), rng)
            t = t + lognormal(rng, leg.hours)
        node = route[self.customs]
        place = self.world.place(node)
        backlog = calendar.customs_backlog(t.date())
        dwell = lognormal(rng, place.dwell or DEFAULT_CUSTOMS, backlog)
        hold = lognormal(rng, HOLD) if rng.random() < self.rates["customs_hold"] or refuse else None
        if self.plan.last_mile == RP:
            return self._post_customs(node, t, dwell, hold, refuse)
        return self._cainiao_customs(node, t, dwell, hold, refuse)

    def _post_customs(
        self, node: str, arrive: datetime, dwell: timedelta, hold: timedelta | None, refuse: bool
    ) -> tuple[datetime, bool]:
        rng = self.rng
        self.scan(CN, "LH_HO_OUT_SUCCESS", arrive + hours(rng, 0.5, 3), node)
        imported = self.scan(RP, "9.1", self.ru_time(arrive + hours(rng, 3.5, 8), node), node)
        start = self.scan(RP, "11.0", self.ru_time(imported + hours(rng, 2, 24), node), node)
        end = start + dwell
        # Half the holds (by the hold's length, so no extra draw moves the rest of the world) are duties
        # to pay: release refused until paid (14.14), the payment received (19.0), released paid (14.13).
        duty = hold is not None and not refuse and int(hold.total_seconds() // 3600) % 2 == 0
        if hold is not None:
            self.scan(RP, "14.14" if duty else "14.8", start + dwell * rng.uniform(0.3, 0.8), node)
            end += hold
        if refuse:
            self.scan(RP, "14.4", end, node)
            back = self.scan(RP, "3.7", end + hours(rng, 4, 48), node)
            self.return_to_china(back)
            return back, False
        released = self.scan(RP, "14.13" if duty else "14.1", self.ru_time(end, node), node)
        if duty:
            self.scan(RP, "19.0", released - timedelta(hours=1), node)
        depart = self.ru_time(released + hours(rng, 2, 20), node)
        self.scan(RP, "8.6" if self._role(node) in EXCHANGE_ROLES else "8.4", depart, node)
        return depart, True

    def _cainiao_customs(
        self, node: str, arrive: datetime, dwell: timedelta, hold: timedelta | None, refuse: bool
    ) -> tuple[datetime, bool]:
        rng = self.rng
        inside = self.scan(CN, "CC_HO_IN_SUCCESS", arrive + hours(rng, 1, 4), node)
        start = self.scan(CN, "CC_IM_START", inside + hours(rng, 1, 12), node)
        end = start + dwell
        if hold is not None:
            self.scan(CN, "CC_IM_FAILURE", start + dwell * rng.uniform(0.3, 0.8), node)
            end += hold
        if refuse:
            back = self.scan(CN, "RT_INBOUND", end, node)
            self.return_to_china(back)
            return back, False
        cleared = self.scan(CN, "CC_IM_SUCCESS", self.ru_time(end, node), node)
        out = self.scan(CN, "CC_HO_OUT_SUCCESS", cleared + hours(rng, 0.5, 3), node)
        accepted = self.scan(CN, "GTMS_ACCEPT", out + hours(rng, 2, 12), node)
        self.scan(CDEK, "RECEIVED_AT_SHIPMENT_WAREHOUSE", accepted + hours(rng, 0.5, 3), node)
        return accepted + hours(rng, 4, 8), True

    def domestic(self, t: datetime) -> datetime:
        """From the customs node to the destination city's sorting, by the route's Russian legs."""
        rng, route = self.rng, self.route
        cities = self.world.offices["cdek_cities"]
        for i in range(self.customs + 1, len(route)):
            prev, node = route[i - 1], route[i]
            leg = self._leg(prev, node)
            depart = self.ru_time(next_departure(leg, t, self._tz(prev), rng), prev)
            last = i == len(route) - 1
            if self.plan.last_mile == CDEK:
                if i == self.customs + 1:
                    self.scan(CDEK, "READY_FOR_SHIPMENT_IN_SENDER_CITY", depart - hours(rng, 1, 3), prev)
                    self.scan(CDEK, "TAKEN_BY_TRANSPORTER_FROM_SENDER_CITY", depart, prev)
                elif prev in cities:
                    self.scan(CDEK, "TAKEN_BY_TRANSPORTER_FROM_TRANSIT_CITY", depart, prev)
                if last:
                    self.scan(CDEK, "SENT_TO_RECIPIENT_CITY", depart + hours(rng, 0.5, 2), prev)
            elif i > self.customs + 1:
                self.scan(RP, "8.4", depart, prev, office=self._rp_office(prev, out=True))
            arrive = self.ru_time(depart + lognormal(rng, leg.hours), node)
            if self.plan.last_mile == CDEK:
                if last:
                    self.scan(CDEK, "ACCEPTED_IN_RECIPIENT_CITY", arrive, node)
                elif node in cities:
                    self.scan(CDEK, "ACCEPTED_IN_TRANSIT_CITY", arrive, node)
            else:
                self.scan(RP, "8.3", arrive, node, office=self._rp_office(node))
            dwell = self.world.place(node).dwell
            t = arrive + (lognormal(rng, dwell) if dwell and not last else hours(rng, 1, 8))
        return t

    def _separate_minutes(self) -> None:
        """Give every scan of the parcel its own minute, so that no two of them look like one event."""
        previous: datetime | None = None
        for scan in self.scans:
            if previous is not None and scan.at.replace(second=0, microsecond=0) <= previous:
                scan.at = previous + timedelta(minutes=1, seconds=self.rng.randint(0, 59))
            previous = scan.at.replace(second=0, microsecond=0)


def journey(world: World, plan: ParcelPlan) -> Journey:
    """Simulate one parcel's journey (a pure function of the world's seed and the plan)."""
    return _Trip(world, plan).run()
