"""CDEK API v2 webhooks (JSON): ``ORDER_STATUS`` becomes a scan event; other webhook types are ignored.

A body is one webhook object or a JSON array of them; item index = position in the array (0 for a
single object). An ``ORDER_STATUS`` hook looks like ``{"type": "ORDER_STATUS", "date_time", "uuid",
"attributes": {"cdek_number", "number", "code", "status_code", "status_date_time", "city", ...}}``
(docs/formats/cdek.md). ``cdek_number`` is the tracking number; ``number`` is the shop's own order
number and is not used. Statuses come from ``data/cdek_status_codes.json``: the v2 ``code`` first,
else the legacy numeric ``status_code``; an unknown code still yields an in_transit/other event.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache, partial
from pathlib import Path
from typing import Any

from carriers.base import ItemInvalid, add_or_reject
from carriers.jsonfeed import load_json
from tracking.events import (
    Location,
    ParseResult,
    PayloadError,
    ScanEvent,
    normalize_number,
    well_formed_number,
)
from tracking.statuses import Status, parse_status

name = "cdek"
content_types = ("application/json",)

DATA = Path(__file__).resolve().parent / "data"
GENERIC = (Status.IN_TRANSIT, "other")
STATUS_HOOK = "ORDER_STATUS"
MAX_TEXT = 200
# An order that is itself a return: its journey runs back to the shop, so progress means "returning".
RETURN_FLAGS = ("is_return", "is_client_return")
RETURNING = (Status.EXCEPTION, "returning")
RETURNED = (Status.EXCEPTION, "returned")


def parse(raw: bytes, content_type: str, carrier: str) -> ParseResult:
    """Parse one CDEK webhook or an array of them into events; non-status webhooks are counted as ignored.

    The answer of ``GET /v2/orders?cdek_number=`` (``{"entity": {"cdek_number", "statuses": [{"code",
    "name", "date_time", "city"}, ...]}, "requests": [...]}``, what the CDEK connector pulls) is read
    too: each status is one item, as if it had come as an ORDER_STATUS webhook.
    """
    doc = load_json(raw)
    if isinstance(doc, dict) and isinstance(doc.get("entity"), dict):
        return _order(doc["entity"], carrier)
    hooks = doc if isinstance(doc, list) else [doc] if isinstance(doc, dict) else None
    if hooks is None:
        raise PayloadError("expected a CDEK webhook object or an array of them")
    result = ParseResult()
    for index, hook in enumerate(hooks):
        if not isinstance(hook, dict):
            result.reject(index, "each webhook must be a JSON object")
            continue
        kind = hook.get("type")
        if not isinstance(kind, str) or not kind:
            result.reject(index, "type is required and must be a string", "type")
            continue
        if kind != STATUS_HOOK:
            result.ignored += 1
            continue
        add_or_reject(result, index, partial(status_event, hook.get("attributes"), carrier))
    return result


def _order(entity: dict[str, Any], carrier: str) -> ParseResult:
    statuses = entity.get("statuses")
    if not isinstance(statuses, list):
        raise PayloadError("a CDEK order needs a statuses array")
    result = ParseResult()
    flags = {flag: entity.get(flag) for flag in RETURN_FLAGS}
    for index, status in enumerate(statuses):
        if not isinstance(status, dict):
            result.reject(index, "each status must be a JSON object")
            continue
        attributes = {
            **flags,
            "cdek_number": entity.get("cdek_number"),
            "code": status.get("code"),
            "status_date_time": status.get("date_time"),
            "city": status.get("city"),
        }
        add_or_reject(result, index, partial(status_event, attributes, carrier))
    return result


def status_event(attributes: Any, carrier: str) -> tuple[ScanEvent, str | None]:
    """The event for an ORDER_STATUS hook's attributes, and its raw code if the code table lacks it."""
    if not isinstance(attributes, dict):
        raise ItemInvalid("attributes", "attributes must be an object")
    number = tracking_number(attributes.get("cdek_number"), "attributes.cdek_number")
    code, numeric = _code_text(attributes.get("code")), _code_text(attributes.get("status_code"))
    if code is None and numeric is None:
        raise ItemInvalid("attributes.code", "attributes.code (or status_code) is required")
    pair, label, mapped = classify(code, numeric)
    if any(attributes.get(flag) is True for flag in RETURN_FLAGS):
        pair = as_return(pair)
    raw_code = code or numeric
    assert raw_code is not None
    city = _short_text(attributes.get("city")) or _short_text(attributes.get("city_name"))
    country = _short_text(attributes.get("country_code"))
    country = (
        country.upper() if country and len(country) == 2 and country.isascii() and country.isalpha() else "RU"
    )
    reason = _code_text(attributes.get("status_reason_code"))
    event = ScanEvent(
        tracking_number=number,
        status=pair[0],
        substatus=pair[1],
        occurred_at=parse_time(attributes.get("status_date_time"), "attributes.status_date_time"),
        carrier=carrier,
        location=Location(name=city, country=country) if city else Location(),
        description=f"{label} (причина {reason})" if reason else label,
        raw_code=raw_code,
        linked_numbers=_related(attributes.get("related_entities"), number),
    )
    return event, None if mapped else raw_code


def classify(code: str | None, numeric: str | None) -> tuple[tuple[Status, str], str, bool]:
    """Status pair, Russian label and whether the v2 code (else the numeric code) is in the table."""
    codes, numbers = _tables()
    if code is not None and code.upper() in codes:
        pair, label = codes[code.upper()]
        return pair, label, True
    if numeric is not None and numeric in numbers:
        pair, label = numbers[numeric]
        return pair, label, True
    return GENERIC, code or numeric or "", False


def as_return(pair: tuple[Status, str]) -> tuple[Status, str]:
    """How a status of a return order reads for the original parcel."""
    if pair[0] is Status.DELIVERED:
        return RETURNED
    if pair[0] in (Status.IN_TRANSIT, Status.OUT_FOR_DELIVERY, Status.AVAILABLE_FOR_PICKUP):
        return RETURNING
    return pair


def tracking_number(value: Any, field: str) -> str:
    """A CDEK number from a string or an integer field, normalized and checked."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ItemInvalid(field, f"{field} is required: the CDEK order number")
    number = normalize_number(value)
    if not well_formed_number(number):
        raise ItemInvalid(field, f"{field} must be 5 to 40 Latin letters or digits")
    return number


def parse_time(value: Any, field: str) -> datetime:
    """A CDEK timestamp such as ``2019-07-11T12:41:43+0700``; it must carry a UTC offset."""
    if not isinstance(value, str) or not value.strip():
        raise ItemInvalid(field, f"{field} is required: a time with a UTC offset")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ItemInvalid(field, f"{field} {value[:40]!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ItemInvalid(field, f"{field} {value[:40]!r} has no UTC offset")
    if not 2000 <= moment.year <= 2100:
        raise ItemInvalid(field, f"{field} {value[:40]!r} is outside the years 2000 to 2100")
    return moment


def _related(value: Any, own: str) -> tuple[str, ...]:
    # A return order names the direct order it reverses (and vice versa): both are CDEK numbers.
    if not isinstance(value, list):
        return ()
    numbers: list[str] = []
    for entity in value:
        if not isinstance(entity, dict):
            continue
        try:
            number = tracking_number(entity.get("cdek_number"), "related_entities")
        except ItemInvalid:
            continue
        if number != own and number not in numbers:
            numbers.append(number)
    return tuple(numbers)


def _code_text(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip() and len(value) <= 60:
        return value.strip()
    return None


def _short_text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip()[:MAX_TEXT] or None


Table = dict[str, tuple[tuple[Status, str], str]]


@cache
def _tables() -> tuple[Table, Table]:
    doc: dict[str, Any] = json.loads((DATA / "cdek_status_codes.json").read_text(encoding="utf-8"))

    def load(section: dict[str, Any]) -> Table:
        return {
            code: (parse_status(e["status"], e["substatus"]), e.get("name", code))
            for code, e in section.items()
        }

    return load(doc["codes"]), load(doc["numeric"])


def numeric_status(code: str) -> tuple[tuple[Status, str], str] | None:
    """The status pair and Russian label of a legacy numeric CDEK status code, if known."""
    return _tables()[1].get(code)
