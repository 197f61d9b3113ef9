"""Walking a parcel: recording scans, the working hours of each side, and the last mile in Russia.

``Walker`` holds one parcel's scans and the helpers every step needs; its last-mile steps are the
counter, the pickup point or the courier, refusals and returns to China, and losses.
``web.demo.journeys`` adds the way from China to the Russian city.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from routing.network import TimeRange
from web.demo import calendar
from web.demo.scans import (
    BEIJING,
    CDEK,
    CN,
    CUSTOMS_ROLES,
    DELIVERED_CODES,
    PICKUP_WAIT,
    RETURN_CODES,
    RP,
    Scan,
)
from web.demo.timing import hours, lognormal
from web.demo.world import ParcelPlan, World


class Walker:
    """One parcel on its way: the scans so far and the helpers the steps share."""

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
