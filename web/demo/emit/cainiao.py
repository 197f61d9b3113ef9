"""Cainiao global tracking detail JSON, shaped like ``global.cainiao.com/global/detail.json`` answers.

One module per parcel with its new scans in ``detailList`` (newest first), as in the captures from
dir01/parcels copied to tests/fixtures/samples/cainiao_global_detail_*.json: ``time`` in epoch
milliseconds, ``timeStr`` on Beijing's wall clock, ``timeZone`` the place's offset ("GMT+8", "GMT+3",
now and then "GMT+0800" or empty as real captures show). Once the parcel is handed to the Russian
carrier, the module names it in ``destCpInfo`` with the new number (``mailNo``).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson

from web.demo.calendar import zone
from web.demo.journeys import BEIJING, RP, Scan
from web.demo.world import ParcelPlan, World

CONTENT_TYPE = "application/json"

# actionCode -> (desc as the carrier wrote it, Cainiao's standerdDesc), worded as in the samples.
TEXTS: dict[str, tuple[str, str]] = {
    "GWMS_ACCEPT": (
        "Order received successfully",
        "Shipment information received by warehouse electronically",
    ),
    "PU_PICKUP_SUCCESS": ("Accepted by carrier", "Received by logistics company"),
    "SC_INBOUND_SUCCESS": ("Inbound in sorting center", "Processing at sorting center"),
    "SC_OUTBOUND_SUCCESS": ("Outbound in sorting center", "Departed from sorting center"),
    "CW_INBOUND": ("Arrived at consolidation warehouse", "Arrived at consolidation warehouse"),
    "CW_OUTBOUND": ("Left consolidation warehouse", "Departed from consolidation warehouse"),
    "LH_HO_IN_SUCCESS": ("Arrived at departure transport hub", "Arrived at departure transport hub"),
    "CC_EX_START": ("Export customs clearance started", "Export customs clearance started"),
    "CC_EX_SUCCESS": ("Export clearance success", "Export customs clearance complete"),
    "LH_HO_AIRLINE": ("Leaving from departure country/region", "Leaving from departure country/region"),
    "LH_DEPART": ("Left from departure country/region", "Departed from departure country/region"),
    "TD_TRANS_ARRIVE": ("Arrived at transit hub", "Arrived at transit country/region"),
    "TD_TRANS_DEPART": ("Left transit hub", "Departed from transit country/region"),
    "LH_ARRIVE": ("Arrived at linehual office", "Arrived at linehaul office"),
    "LH_HO_OUT_SUCCESS": ("Handed over to the local postal operator", "Handed over to the local carrier"),
    "CC_HO_IN_SUCCESS": ("Arrived at customs", "Arrived at customs"),
    "CC_IM_START": ("Import clearance start", "Import customs clearance started"),
    "CC_IM_FAILURE": ("Held by customs, awaiting documents", "Import customs clearance delayed"),
    "CC_IM_SUCCESS": ("Import customs clearance complete", "Import customs clearance complete"),
    "CC_HO_OUT_SUCCESS": ("Leaving customs", "Departed from customs"),
    "GTMS_ACCEPT": ("Received by local  delivery company", "Received by local delivery company"),
    "RT_INBOUND": ("Refused by customs, returning", "Return to sender started"),
    "RT_WH_HO_IN": ("Return warehouse received the parcel", "Returned parcel received by return warehouse"),
    "RETURNED": ("Returned to seller", "Seller signed for the returned parcel"),
}
GROUPS = {
    "PU_PICKUP_SUCCESS": ("AE_GROUP_PU_PROCESSING", "In transit"),
    "SC_OUTBOUND_SUCCESS": ("AE_GROUP_SC_PROCESSING", "In transit"),
    "LH_DEPART": ("AE_GROUP_LH_PROCESSING", "In transit"),
    "LH_ARRIVE": ("AE_GROUP_LH_ARRIVE", "In transit"),
    "CC_IM_SUCCESS": ("AE_GROUP_IM_CLEARING_CUSTOMS", "At customs"),
    "CC_HO_OUT_SUCCESS": ("AE_GROUP_EX_CLEARING_CUSTOMS", "At customs"),
    "GTMS_ACCEPT": ("AE_GROUP_DES_PROCESSING", "In transit"),
}
# The module's overall status after a scan, as Cainiao's tracking page shows it.
OVERALL = {
    "GWMS_ACCEPT": ("SELLER_PREPARING", "Awaiting seller dispatch"),
    "LH_ARRIVE": ("ARRIVED_AT_DEST_COUNTRY", "Arrived in destination country/region"),
    "CC_HO_IN_SUCCESS": ("CLEAR_CUSTOMS", "In customs "),
    "CC_IM_START": ("CLEAR_CUSTOMS", "In customs "),
    "CC_IM_FAILURE": ("CLEAR_CUSTOMS", "In customs "),
    "CC_IM_SUCCESS": ("CLEAR_CUSTOMS", "In customs "),
    "GTMS_ACCEPT": ("DELIVERING", "In delivery"),
    "LH_HO_OUT_SUCCESS": ("DELIVERING", "In delivery"),
    "RT_INBOUND": ("RETURN", "Returning to seller"),
    "RT_WH_HO_IN": ("RETURN", "Returning to seller"),
    "RETURNED": ("RETURN", "Returned to seller"),
}
CARRIERS = {
    RP: {"cpName": "Russian Post", "phone": "8-800-100-00-00", "url": "https://www.pochta.ru/tracking"},
    "cdek": {"cpName": "CDEK", "phone": "", "url": "https://www.cdek.ru/ru/tracking"},
}


@dataclass(slots=True)
class Module:
    """The new scans of one parcel, and whether Cainiao already knows its last-mile number."""

    plan: ParcelPlan
    scans: list[Scan]
    handed_over: bool


def time_zone_text(world: World, scan: Scan) -> str:
    """The ``timeZone`` string of a scan: the place's UTC offset, in the spellings real feeds use."""
    place = world.place(scan.place)
    tz = BEIJING if place.country == "CN" else place.timezone
    offset = scan.at.astimezone(zone(tz)).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    quirk = zlib.crc32(f"{scan.number}{scan.code}".encode()) % 20
    if place.country == "CN" and quirk == 0:
        return ""
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    if quirk == 1 or rest:
        return f"GMT{sign}{hours:02d}{rest:02d}"
    return f"GMT{sign}{hours}"


def detail(world: World, scan: Scan) -> dict[str, object]:
    """One ``detailList`` entry."""
    desc, standard = TEXTS.get(scan.code, ("Carrier update", "Carrier update"))
    beijing = scan.at.astimezone(zone(BEIJING))
    item: dict[str, object] = {
        "time": int(scan.at.timestamp() * 1000),
        "timeStr": beijing.strftime("%Y-%m-%d %H:%M:%S"),
        "desc": desc,
        "standerdDesc": standard,
        "descTitle": "Carrier note:",
        "timeZone": time_zone_text(world, scan),
        "actionCode": scan.code,
    }
    group = GROUPS.get(scan.code)
    if group:
        item["group"] = {"nodeCode": group[0], "nodeDesc": group[1]}
    return item


def module(world: World, entry: Module, pushed_at: datetime) -> dict[str, object]:
    """One parcel's module."""
    details = [detail(world, s) for s in sorted(entry.scans, key=lambda s: s.at, reverse=True)]
    newest = max(entry.scans, key=lambda s: s.at) if entry.scans else None
    status, status_desc = OVERALL.get(newest.code if newest else "", ("IN_TRANSIT", "In transit"))
    days = max(0, (pushed_at - entry.plan.ordered_at).days)
    out: dict[str, object] = {
        "mailNo": entry.plan.number,
        "originCountry": "Mainland China",
        "destCountry": "Russian Federation",
        "status": status,
        "statusDesc": status_desc,
        "mailNoSource": "AE",
        "processInfo": {"progressStatus": "NORMAL", "type": "CROSS"},
        "latestTrace": details[0],
        "detailList": details,
        "daysNumber": f"{days}\tday(s)",
    }
    if entry.handed_over:
        out["destCpInfo"] = {**CARRIERS[entry.plan.last_mile], "mailNo": entry.plan.last_number}
    return out


def payload(world: World, modules: Sequence[Module], pushed_at: datetime) -> bytes:
    """A detail.json body with one module per parcel."""
    return orjson.dumps({"module": [module(world, m, pushed_at) for m in modules], "success": True})


def event_count(modules: Iterable[Module]) -> int:
    """How many scans a payload carries."""
    return sum(len(m.scans) for m in modules)
