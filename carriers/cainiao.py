"""Cainiao global tracking detail JSON (``global.cainiao.com/global/detail.json``), format ``cainiao``.

Accepts ``{"module": [...], "success": true}`` (one module per parcel; each module is one payload
item), a bare list of modules, or a single module object. Each module's ``detailList`` (newest first)
becomes scan events; a module with an empty ``detailList`` is acknowledged (``result.ignored``).

Times: ``time`` (epoch milliseconds) is the instant. In every capture ``timeStr`` is that instant on
Beijing's wall clock (UTC+8), whatever ``timeZone`` says, so without ``time`` the adapter reads
``timeStr`` as UTC+8. ``timeZone`` ("GMT+8", "GMT+0800", "GMT+0", "GMT-3", or empty) is the offset of
the place of the scan and is kept as the event's offset; when it is missing, Chinese legs get UTC+8
and destination legs their country's usual offset (``countries.json``), else UTC.

``actionCode`` is mapped through ``data/cainiao_action_codes.json``. An unseen code with a known prefix
gets its leg's generic meaning, an unknown one ``in_transit/other``; both are counted as unmapped.
The country of a scan follows its leg: origin legs get ``originCountry``, destination legs
``destCountry``. Cainiao gives no structured place, so no location name is set.

The destination carrier's number (``copyRealMailNo``, ``realMailNo``, or ``destCpInfo.mailNo``) goes
into every event's ``linked_numbers``; a "preMainCode:<number>" in a scan's text links that number too.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from functools import partial
from typing import Any

from carriers.codetables import GENERIC, Mapping, by_prefix, code_table, country_code, local_zone
from carriers.jsonfeed import BEIJING, ItemInvalid, from_epoch_ms, linked, load_json, obj, parse_iso, text
from carriers.jsonfeed import parse_gmt_offset as parse_gmt_offset
from carriers.scans import ScanReader, TrackingShape, parse_trackings
from tracking.events import Location, ParseResult, PayloadError, ScanEvent

name = "cainiao"
content_types = ("application/json",)

_TABLE = code_table("cainiao_action_codes")
_SHAPE = TrackingShape(number="mailNo", scans="detailList", noun="module")
_GENERIC_TEXT = "carrier update"
_PRE_MAIN = re.compile(r"preMainCode\s*:\s*([A-Za-z0-9]{5,40})", re.ASCII)
_TOKEN = re.compile(r"[A-Za-z0-9]+", re.ASCII)


def parse(raw: bytes, content_type: str, carrier: str) -> ParseResult:
    """Parse a Cainiao detail payload: one item per module, per-scan errors inside each item."""
    return parse_trackings(_modules(load_json(raw)), _SHAPE, partial(_detail_reader, carrier))


def map_action_code(code: str | None) -> tuple[Mapping, bool]:
    """The canonical meaning of an actionCode, and whether the table knew the code itself."""
    if not code:
        return GENERIC, True
    exact = _TABLE["codes"].get(code)
    if exact is not None:
        return exact, True
    leg = by_prefix(_TABLE["prefixes"], code)
    if leg is None:
        return GENERIC, False
    if leg.failure is not None and code.endswith(("_FAILURE", "_FAIL")):
        return Mapping(leg.failure[0], leg.failure[1], leg.leg), False
    return leg, False


def _modules(doc: Any) -> list[Any]:
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        modules = doc.get("module")
        if isinstance(modules, list):
            return modules
        if isinstance(modules, dict):
            return [modules]
        if "mailNo" in doc or "detailList" in doc:
            return [doc]
        if doc.get("success") is False:
            raise PayloadError(f"Cainiao answered an error: {text(doc.get('errorMsg')) or 'no detail'}")
    raise PayloadError('expected a Cainiao detail object with a "module" array, or one module')


def _detail_reader(carrier: str, module: dict[str, Any], number: str) -> ScanReader:
    countries = {
        "origin": country_code(module.get("originCountry")),
        "destination": country_code(module.get("destCountry")),
    }
    handover = _handover_numbers(module, number)
    return partial(_event, number=number, carrier=carrier, countries=countries, handover=handover)


def _event(
    detail: Any,
    number: str,
    carrier: str,
    countries: dict[str, str | None],
    handover: tuple[str, ...],
) -> tuple[ScanEvent, bool]:
    if not isinstance(detail, dict):
        raise ItemInvalid("", "each scan must be a JSON object")
    code = text(detail.get("actionCode"))
    mapping, known = map_action_code(code)
    country = countries.get(mapping.leg or "")
    zone = parse_gmt_offset(detail.get("timeZone")) or _default_zone(mapping.leg, country)
    desc = text(detail.get("desc"))
    pre_main = _PRE_MAIN.findall(desc or "")
    event = ScanEvent(
        tracking_number=number,
        status=mapping.status,
        substatus=mapping.substatus,
        occurred_at=_instant(detail).astimezone(zone),
        carrier=carrier,
        location=Location(country=country),
        description=_description(detail, desc),
        raw_code=code,
        linked_numbers=linked([*handover, *pre_main], number),
    )
    return event, known


def _instant(detail: dict[str, Any]) -> datetime:
    moment = from_epoch_ms(detail.get("time"), "time")
    if moment is None:
        moment = parse_iso(detail.get("timeStr"), "timeStr", naive_zone=BEIJING)
    if moment is None:
        raise ItemInvalid("time", "a scan needs time (epoch ms) or timeStr")
    return moment


def _default_zone(leg: str | None, country: str | None) -> timezone:
    if leg == "destination":
        return local_zone(country)
    return local_zone(country, default=BEIJING) if leg == "origin" else BEIJING


def _description(detail: dict[str, Any], desc: str | None) -> str:
    standard = text(detail.get("standerdDesc"))  # Cainiao's spelling
    if standard and standard.casefold() != _GENERIC_TEXT:
        return standard
    return desc or standard or ""


def _handover_numbers(module: dict[str, Any], own: str) -> tuple[str, ...]:
    """The destination carrier's number(s) for this parcel, as the module gives them."""
    candidates: list[Any] = [module.get("copyRealMailNo"), obj(module.get("destCpInfo")).get("mailNo")]
    real = text(module.get("realMailNo"))
    if real:
        # "realMailNo" may be prefixed by the carrier's name ("PostNL 3SDFC0123456789").
        candidates += [t for t in _TOKEN.findall(real) if any(ch.isdigit() for ch in t)]
    return linked(candidates, own)
