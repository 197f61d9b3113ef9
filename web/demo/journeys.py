"""One parcel's true journey: every scan each carrier makes, when, where, and how the parcel ends.

Leg times are drawn log-normally around the network's typical figure (its max read as the 95th
centile), flights and trains leave on schedules with cut-offs, customs dwell grows after 11.11 and
sometimes turns into a long hold, China stops for the Spring Festival, Russia for its January holidays
and partly on Sundays, and a few per cent of parcels are lost, refused or sent back by customs.
The scans are kept in the carriers' own codes; ``web.demo.emit_*`` turn them into native payloads.
"""

from __future__ import annotations

import math
import random
import re
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from routing.network import Leg, TimeRange
from web.demo import calendar
from web.demo.world import ParcelPlan, World

CN, RP, CDEK = "cainiao", "russian_post", "cdek"
BEIJING = "Asia/Shanghai"
CUSTOMS_ROLES = {"import_exchange", "import_exchange_and_sorting", "rail_terminal"}
EXCHANGE_ROLES = {"import_exchange", "import_exchange_and_sorting"}
DEFAULT_CUSTOMS = TimeRange(12, 36, 120)
HOLD = TimeRange(48, 168, 600)
PICKUP_WAIT = TimeRange(2, 40, 240)
# Scans that carry the parcel's fate or its hand-over are never dropped by the simulated feeds.
DELIVERED_CODES = {"2.1", "2.6", "DELIVERED"}
RETURN_CODES = {"3.4", "3.7", "SENT_TO_SENDER_CITY", "RT_INBOUND"}
PROTECTED = {
    "GWMS_ACCEPT",
    "LH_HO_OUT_SUCCESS",
    "GTMS_ACCEPT",
    "2.1",
    "2.6",
    "3.4",
    "3.7",
    "5.1",
    "DELIVERED",
    "NOT_DELIVERED",
    "SENT_TO_SENDER_CITY",
    "RETURNED",
    "RT_WH_HO_IN",
    "RT_INBOUND",
}


@dataclass(slots=True)
class Scan:
    """One carrier scan as it really happened, and how the carrier's feed will report it."""

    carrier: str
    number: str
    code: str
    at: datetime
    place: str
    office: tuple[str, str] | None = None
    reported_at: datetime | None = None
    resend_at: datetime | None = None
    sent: bool = True


@dataclass(slots=True)
class Journey:
    """A parcel's plan, its scans in time order and its fate (delivered, lost or returned)."""

    plan: ParcelPlan
    scans: list[Scan]
    fate: str
    final_at: datetime | None
    delivered_at: datetime | None
    shipped_at: datetime

    def fate_at(self, now: datetime) -> str:
        """The fate as known at ``now``: in_flight until it has happened."""
        if self.final_at is not None and self.final_at <= now:
            return self.fate
        return "in_flight"

    def delivered_by(self, now: datetime) -> datetime | None:
        """The delivery instant if it happened by ``now``."""
        return self.delivered_at if self.delivered_at and self.delivered_at <= now else None


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


class _Trip:
    """Walks one parcel along its route, collecting scans."""

    def __init__(self, world: World, plan: ParcelPlan) -> None:
        self.world = world
        self.plan = plan
        self.rng = world.rng("journey", plan.key)
        self.rates = world.config["rates"]
        self.scans: list[Scan] = []
        self.delivered: Scan | None = None
        self.returning: Scan | None = None
        self.route = plan.route
        self.first_ru = next(i for i, n in enumerate(self.route) if world.place(n).country == "RU")
        self.customs = next(
            (
                i
                for i, n in enumerate(self.route[:-1])
                if i >= self.first_ru and self._role(n) in CUSTOMS_ROLES
            ),
            self.first_ru,
        )

    def _role(self, node: str) -> str:
        return self.world.place(node).role

    def _tz(self, node: str) -> str:
        place = self.world.place(node)
        return BEIJING if place.country == "CN" else place.timezone

    def scan(self, carrier: str, code: str, at: datetime, node: str, **extra: object) -> datetime:
        number = self.plan.number if carrier == CN else self.plan.last_number
        scan = Scan(carrier, number, code, at, node, **extra)  # type: ignore[arg-type]
        self.scans.append(scan)
        if code in DELIVERED_CODES:
            self.delivered = scan
        elif code in RETURN_CODES and self.returning is None:
            self.returning = scan
        return at

    def cn_time(self, at: datetime) -> datetime:
        return calendar.after_spring_festival(at, BEIJING)

    def ru_time(self, at: datetime, node: str) -> datetime:
        """Russian sorting: stops for the January holidays, half the work waits on Sundays."""
        tz = self._tz(node)
        moved = calendar.russian_working(at, tz, sunday_closed=False)
        if moved != at:
            return moved + hours(self.rng, 0, 36)
        local = at.astimezone(calendar.zone(tz))
        if local.weekday() == 6 and self.rng.random() < 0.5:
            monday = local.replace(hour=6, minute=0) + timedelta(days=1)
            return monday.astimezone(at.tzinfo) + hours(self.rng, 0, 10)
        return at

    def office_time(self, at: datetime, node: str) -> datetime:
        tz = self._tz(node)
        moved = calendar.russian_working(at, tz, sunday_closed=True)
        opened = calendar.office_hours(moved, tz)
        return opened + (hours(self.rng, 0, 3) if opened != at else timedelta(0))

    # --- the walk -------------------------------------------------------------------------------

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
        if hold is not None:
            self.scan(RP, "14.8", start + dwell * rng.uniform(0.3, 0.8), node)
            end += hold
        if refuse:
            self.scan(RP, "14.4", end, node)
            back = self.scan(RP, "3.7", end + hours(rng, 4, 48), node)
            self.return_to_china(back)
            return back, False
        released = self.scan(RP, "14.1", self.ru_time(end, node), node)
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

    def _rp_office(self, node: str, out: bool = False) -> tuple[str, str]:
        offices = self.world.offices
        known = offices["russian_post"].get(node)
        if known:
            if out and "out_index" in known:
                return known["out_index"], known["out_description"]
            return known["index"], known["description"]
        base = offices["city_postcodes"].get(node, "101000")
        return f"{base[:3]}960", f"{self._city_ru(node)} МСЦ"

    def _city_ru(self, node: str) -> str:
        names = self.world.network.place(node).names
        return next((n for n in names if any("а" <= ch.lower() <= "я" for ch in n)), node)

    def deliver(self, t: datetime, refuse: bool) -> None:
        """The last step in the destination city: counter, pickup point or courier."""
        rng, node = self.rng, self.route[-1]
        courier = rng.random() < self.rates["courier_delivery"]
        failed = rng.random() < self.rates["failed_attempt"]
        if self.plan.last_mile == RP:
            self.scan(RP, "8.4", self.ru_time(t, node), node, office=self._rp_office(node))
            postcode = self.world.offices["city_postcodes"].get(node, "101000")
            number = rng.randint(1, 99)
            office = (f"{postcode[:4]}{number:02d}", f"{self._city_ru(node)} {number}")
            t = self.scan(RP, "8.2", self.office_time(t + hours(rng, 4, 30), node), node, office=office)
            if courier:
                t = self._attempts(RP, "8.18", "12.1", "12.6", t, node, failed, refuse, office)
                if refuse:
                    self._refused(RP, "3.4", t + hours(rng, 2, 30), node, office)
                else:
                    self.scan(RP, "2.6", t + hours(rng, 1, 6), node, office=office)
                return
            t = self.office_time(t + lognormal(rng, PICKUP_WAIT), node)
            if refuse:
                self._refused(RP, "3.4", t, node, office)
            else:
                self.scan(RP, "2.1", t, node, office=office)
            return
        t = self.scan(CDEK, "ACCEPTED_AT_RECIPIENT_CITY_WAREHOUSE", t + hours(rng, 1, 6), node)
        if courier:
            t = self._attempts(
                CDEK,
                "TAKEN_BY_COURIER",
                "RETURNED_TO_RECIPIENT_CITY_WAREHOUSE",
                "NOT_DELIVERED",
                t,
                node,
                failed,
                refuse,
                None,
            )
            if not refuse:
                self.scan(CDEK, "DELIVERED", t + hours(rng, 1, 6), node)
            return
        t = self.scan(CDEK, "ACCEPTED_AT_PICK_UP_POINT", self.office_time(t + hours(rng, 4, 24), node), node)
        t = self.office_time(t + lognormal(rng, PICKUP_WAIT), node)
        if refuse:
            self.scan(CDEK, "NOT_DELIVERED", t, node)
            self._refused(CDEK, "SENT_TO_SENDER_CITY", t + hours(rng, 20, 72), node, None)
        else:
            self.scan(CDEK, "DELIVERED", t, node)

    def _attempts(
        self,
        carrier: str,
        out: str,
        failed_code: str,
        refused_code: str,
        t: datetime,
        node: str,
        failed: bool,
        refuse: bool,
        office: tuple[str, str] | None,
    ) -> datetime:
        rng = self.rng
        t = self.scan(carrier, out, self.office_time(t + hours(rng, 10, 20), node), node, office=office)
        if failed:
            t = self.scan(carrier, failed_code, t + hours(rng, 1, 6), node, office=office)
            t = self.scan(carrier, out, self.office_time(t + hours(rng, 14, 40), node), node, office=office)
        if refuse:
            t = self.scan(carrier, refused_code, t + hours(rng, 1, 6), node, office=office)
            if carrier == CDEK:
                self._refused(CDEK, "SENT_TO_SENDER_CITY", t + hours(rng, 20, 72), node, None)
        return t

    def _refused(
        self, carrier: str, code: str, t: datetime, node: str, office: tuple[str, str] | None
    ) -> None:
        self.return_to_china(self.scan(carrier, code, t, node, office=office))

    def return_to_china(self, t: datetime) -> None:
        """Cainiao's return scans after the parcel turned back in Russia."""
        rng, origin = self.rng, self.plan.origin
        back = self.scan(CN, "RT_WH_HO_IN", t + lognormal(rng, TimeRange(240, 480, 960)), origin)
        self.scan(CN, "RETURNED", back + lognormal(rng, TimeRange(72, 168, 480)), origin)

    def lose(self) -> None:
        """Cut the journey after a random scan past the pick-up; sometimes the loss is registered."""
        self.scans.sort(key=lambda s: s.at)
        cut = self.rng.randint(2, max(2, len(self.scans) - 3))
        self.scans = self.scans[:cut]
        last = self.scans[-1]
        handed = any(s.carrier == RP for s in self.scans)
        if handed and self.rng.random() < self.rates["lost_registered"]:
            self.scan(RP, "5.1", last.at + hours(self.rng, 24 * 30, 24 * 45), last.place, office=last.office)

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
