"""CDEK API v2 ``ORDER_STATUS`` webhooks, shaped like tests/fixtures/samples/cdek_v2_webhook_ORDER_STATUS.json
(from cdek-it/sdk2.0's tests).

``{type, date_time, uuid, attributes: {is_return, is_reverse, is_client_return, cdek_number, number,
code, status_code, status_date_time, city}}``; times carry the city's offset written ``+0700``, the
legacy numeric ``status_code`` is sent (as a string) only for the codes whose number is documented,
and ``number`` is the shop's own order number (here the Cainiao number). A batch is a JSON array.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import orjson

from web.demo.calendar import zone
from web.demo.journeys import Scan
from web.demo.world import ParcelPlan, World

CONTENT_TYPE = "application/json"
# Legacy numeric codes observed with their v2 names (tests/fixtures/samples/cdek_status_codes.md, source C).
NUMERIC = {
    "RECEIVED_AT_SHIPMENT_WAREHOUSE": "3",
    "DELIVERED": "4",
    "READY_FOR_SHIPMENT_IN_SENDER_CITY": "6",
    "TAKEN_BY_TRANSPORTER_FROM_SENDER_CITY": "7",
    "SENT_TO_RECIPIENT_CITY": "8",
    "ACCEPTED_AT_RECIPIENT_CITY_WAREHOUSE": "10",
    "TAKEN_BY_COURIER": "11",
    "ACCEPTED_AT_TRANSIT_WAREHOUSE": "13",
    "RETURNED_TO_RECIPIENT_CITY_WAREHOUSE": "18",
    "TAKEN_BY_TRANSPORTER_FROM_TRANSIT_CITY": "20",
    "SENT_TO_TRANSIT_CITY": "21",
    "ACCEPTED_IN_TRANSIT_CITY": "22",
}
NAMESPACE = uuid.UUID("9f5a2c1e-3b7d-4c59-8e0a-5d6f7a8b9c0d")


def stamp(world: World, moment: datetime, place: str) -> str:
    """A CDEK time: local wall clock and a ``+HHMM`` offset."""
    local = moment.astimezone(zone(world.place(place).timezone))
    return local.strftime("%Y-%m-%dT%H:%M:%S%z")


def city(world: World, place: str) -> str:
    """The city CDEK names for a network place."""
    named = world.offices["cdek_cities"].get(place)
    if named:
        return str(named)
    names = world.place(place).names
    return next((n for n in names if any("а" <= ch.lower() <= "я" for ch in n)), world.place(place).name)


def webhook(world: World, plan: ParcelPlan, scan: Scan, sent_at: datetime) -> dict[str, object]:
    """One ORDER_STATUS webhook."""
    attributes: dict[str, object] = {
        "is_return": False,
        "is_reverse": False,
        "is_client_return": False,
        "cdek_number": scan.number,
        "number": plan.number,
        "code": scan.code,
    }
    if scan.code in NUMERIC:
        attributes["status_code"] = NUMERIC[scan.code]
    attributes["status_date_time"] = stamp(world, scan.at, scan.place)
    attributes["city"] = city(world, scan.place)
    return {
        "type": "ORDER_STATUS",
        "date_time": stamp(world, max(sent_at, scan.at), scan.place),
        "uuid": str(uuid.uuid5(NAMESPACE, scan.number)),
        "attributes": attributes,
    }


def payload(world: World, items: Sequence[tuple[ParcelPlan, Scan]], sent_at: datetime) -> bytes:
    """A JSON array of webhooks."""
    return orjson.dumps([webhook(world, plan, scan, sent_at) for plan, scan in items])
