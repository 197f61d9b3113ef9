"""SF Express route query answers (``EXP_RECE_SEARCH_ROUTES``), format ``sf_express``.

``{"success": true, "errorCode": "S0000", "msgData": {"routeResps": [{"mailNo", "routes": [...]}]}}``,
also inside the platform envelope ``{"apiResultCode": "A1000", "apiResultData": "<that JSON as text>"}``.
Each ``routeResps`` entry (one waybill) is one payload item; a waybill without routes is acknowledged
(``result.ignored``). An answer with ``success: false`` is refused as a whole (PayloadError).

Route: ``opCode`` mapped through ``data/sf_express_opcodes.json`` (unknown codes give
``in_transit/other`` and are counted as unmapped), ``acceptTime`` read as Beijing time (UTC+8; SF
writes no offset), ``acceptAddress`` (a city) as location name, ``remark`` as description.
"""

from __future__ import annotations

from typing import Any

import orjson

from carriers.codetables import GENERIC, Mapping, code_table
from carriers.jsonfeed import BEIJING, ItemInvalid, load_json, obj, parse_iso, text, tracking_number
from tracking.events import Location, ParseResult, PayloadError, ScanEvent

name = "sf_express"
content_types = ("application/json",)

_TABLE = code_table("sf_express_opcodes")


def parse(raw: bytes, content_type: str, carrier: str) -> ParseResult:
    """Parse an SF Express route answer: one item per waybill, per-route errors inside it."""
    result = ParseResult()
    for index, waybill in enumerate(_waybills(load_json(raw))):
        try:
            _parse_waybill(waybill, index, carrier, result)
        except ItemInvalid as exc:
            result.reject(index, str(exc), exc.field or None)
    return result


def map_opcode(code: str | None) -> tuple[Mapping, bool]:
    """The canonical meaning of an SF opCode, and whether the table knew it."""
    mapping = _TABLE["codes"].get(code or "")
    return (mapping, True) if mapping else (GENERIC, code is None)


def _waybills(doc: Any) -> list[Any]:
    if isinstance(doc, dict) and "apiResultData" in doc:
        inner = doc["apiResultData"]
        if isinstance(inner, str):
            try:
                inner = orjson.loads(inner)
            except orjson.JSONDecodeError:
                raise PayloadError("apiResultData is not valid JSON") from None
        if not isinstance(inner, dict):
            raise PayloadError(f"SF Express answered {text(doc.get('apiResultCode')) or 'an error'}")
        doc = inner
    if not isinstance(doc, dict):
        raise PayloadError("expected an SF Express route answer object")
    if doc.get("success") is False:
        code, message = text(doc.get("errorCode")) or "?", text(doc.get("errorMsg")) or "no detail"
        raise PayloadError(f"SF Express answered an error: {code} {message}")
    waybills = obj(doc.get("msgData")).get("routeResps")
    if not isinstance(waybills, list):
        raise PayloadError('expected "msgData.routeResps" to be an array')
    return waybills


def _parse_waybill(waybill: Any, index: int, carrier: str, result: ParseResult) -> None:
    if not isinstance(waybill, dict):
        raise ItemInvalid("", "each routeResps entry must be a JSON object")
    number = tracking_number(waybill.get("mailNo"), "mailNo")
    routes = waybill.get("routes")
    if routes is None or routes == []:
        result.ignored += 1
        return
    if not isinstance(routes, list):
        raise ItemInvalid("routes", "routes must be an array")
    for position, route in enumerate(routes):
        where = f"routes[{position}]"
        try:
            event, known = _event(route, number, carrier)
        except ItemInvalid as exc:
            result.reject(index, f"{where}: {exc}", f"{where}.{exc.field}" if exc.field else where)
            continue
        result.add(event, index)
        if not known and event.raw_code:
            result.note_unmapped(event.raw_code)


def _event(route: Any, number: str, carrier: str) -> tuple[ScanEvent, bool]:
    if not isinstance(route, dict):
        raise ItemInvalid("", "each route must be a JSON object")
    code = text(route.get("opCode"))
    mapping, known = map_opcode(code)
    moment = parse_iso(route.get("acceptTime"), "acceptTime", naive_zone=BEIJING)
    if moment is None:
        raise ItemInvalid("acceptTime", "acceptTime is required")
    place = text(route.get("acceptAddress"))
    event = ScanEvent(
        tracking_number=number,
        status=mapping.status,
        substatus=mapping.substatus,
        occurred_at=moment,
        carrier=carrier,
        location=Location(name=place[:200] if place else None),
        description=text(route.get("remark")) or "",
        raw_code=code,
    )
    return event, known
