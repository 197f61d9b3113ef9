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

from functools import partial
from typing import Any

import orjson

from carriers.codetables import GENERIC, Mapping, code_table
from carriers.jsonfeed import BEIJING, ItemInvalid, capped_location, load_json, obj, required_time, text
from carriers.scans import ScanReader, TrackingShape, parse_trackings
from tracking.events import ParseResult, PayloadError, ScanEvent

name = "sf_express"
content_types = ("application/json",)

_TABLE = code_table("sf_express_opcodes")
_SHAPE = TrackingShape(number="mailNo", scans="routes", noun="routeResps entry")


def parse(raw: bytes, content_type: str, carrier: str) -> ParseResult:
    """Parse an SF Express route answer: one item per waybill, per-route errors inside it."""
    return parse_trackings(_waybills(load_json(raw)), _SHAPE, partial(_route_reader, carrier))


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


def _route_reader(carrier: str, waybill: dict[str, Any], number: str) -> ScanReader:
    return partial(_event, number=number, carrier=carrier)


def _event(route: Any, number: str, carrier: str) -> tuple[ScanEvent, bool]:
    if not isinstance(route, dict):
        raise ItemInvalid("", "each route must be a JSON object")
    code = text(route.get("opCode"))
    mapping, known = map_opcode(code)
    event = ScanEvent(
        tracking_number=number,
        status=mapping.status,
        substatus=mapping.substatus,
        occurred_at=required_time(route.get("acceptTime"), "acceptTime", BEIJING),
        carrier=carrier,
        location=capped_location(text(route.get("acceptAddress"))),
        description=text(route.get("remark")) or "",
        raw_code=code,
    )
    return event, known
