"""Yanwen tracking API answers (``trackapi.yanwentech.com/api/tracking``), format ``yanwen``.

``{"code": 0, "message": "success", "result": [{"tracking_number", "tracking_status", "checkpoints":
[{"time_stamp", "time_zone", "tracking_status", "message", "location"}]}]}``. Each ``result`` entry
(one parcel) is one payload item; a parcel without checkpoints is acknowledged (``result.ignored``).
A non-zero ``code`` is refused as a whole (PayloadError).

``time_stamp`` is local wall-clock time and ``time_zone`` its offset ("+8"); without a zone the time is
read as Beijing time. ``tracking_status`` is mapped through ``data/yanwen_codes.json`` (prefix
fallback for unseen codes, counted as unmapped). ``location`` is a free-text place name.

Yanwen may answer under another number than the one asked for: the answer's ``tracking_number`` is
the event's number, and ``waybill_number`` / ``exchange_number`` (when the answer has them) are linked.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from carriers.codetables import GENERIC, Mapping, by_prefix, code_table
from carriers.jsonfeed import (
    BEIJING,
    ItemInvalid,
    capped_location,
    linked,
    load_json,
    parse_gmt_offset,
    required_time,
    text,
)
from carriers.scans import ScanReader, TrackingShape, parse_trackings
from tracking.events import ParseResult, PayloadError, ScanEvent

name = "yanwen"
content_types = ("application/json",)

_TABLE = code_table("yanwen_codes")
_SHAPE = TrackingShape(number="tracking_number", scans="checkpoints", noun="result entry")


def parse(raw: bytes, content_type: str, carrier: str) -> ParseResult:
    """Parse a Yanwen tracking answer: one item per parcel, per-checkpoint errors inside it."""
    doc = load_json(raw)
    if not isinstance(doc, dict) or not isinstance(doc.get("result"), list):
        if isinstance(doc, dict) and doc.get("code") not in (0, "0", None):
            raise PayloadError(f"Yanwen answered an error: {text(doc.get('message')) or doc.get('code')}")
        raise PayloadError('expected a Yanwen answer object with a "result" array')
    return parse_trackings(doc["result"], _SHAPE, partial(_checkpoint_reader, carrier))


def map_status(code: str | None) -> tuple[Mapping, bool]:
    """The canonical meaning of a Yanwen tracking_status code, and whether the table knew it."""
    if not code:
        return GENERIC, True
    exact = _TABLE["codes"].get(code)
    if exact is not None:
        return exact, True
    return by_prefix(_TABLE["prefixes"], code) or GENERIC, False


def _checkpoint_reader(carrier: str, parcel: dict[str, Any], number: str) -> ScanReader:
    links = linked([parcel.get("waybill_number"), parcel.get("exchange_number")], number)
    return partial(_event, number=number, carrier=carrier, links=links)


def _event(checkpoint: Any, number: str, carrier: str, links: tuple[str, ...]) -> tuple[ScanEvent, bool]:
    if not isinstance(checkpoint, dict):
        raise ItemInvalid("", "each checkpoint must be a JSON object")
    code = text(checkpoint.get("tracking_status"))
    mapping, known = map_status(code)
    zone = parse_gmt_offset(checkpoint.get("time_zone")) or BEIJING
    event = ScanEvent(
        tracking_number=number,
        status=mapping.status,
        substatus=mapping.substatus,
        occurred_at=required_time(checkpoint.get("time_stamp"), "time_stamp", zone),
        carrier=carrier,
        location=capped_location(text(checkpoint.get("location"))),
        description=text(checkpoint.get("message")) or "",
        raw_code=code,
        linked_numbers=links,
    )
    return event, known
