"""Silkway's canonical JSON format (docs/contract.md), for carriers without a format of their own.

``{"events": [{"tracking_number", "status", "substatus", "occurred_at", "location": {"name",
"country", "postcode", "lat", "lon"}, "description", "raw_code", "linked_numbers": [...]}]}``.
A bare list of events is accepted too. ``occurred_at`` must be ISO 8601 with a UTC offset; whether it
is plausible (from 2010 to a day after now) is tracking.plausibility's to say, at ingestion, for every
format alike. ``location.country`` is an ISO 3166-1 alpha-2 code (carriers/data/countries.json), and a
``location`` object must name at least one of its fields.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import orjson

from carriers.base import ItemInvalid as ItemInvalid
from carriers.codetables import is_country
from tracking.events import (
    Location,
    ParseResult,
    PayloadError,
    ScanEvent,
    normalize_number,
    well_formed_number,
)
from tracking.statuses import UnknownStatus, parse_status

name = "canonical"
content_types = ("application/json",)

MAX_TEXT = 2000
LOCATION_FIELDS = ("name", "country", "postcode", "lat", "lon")


def parse(raw: bytes, content_type: str, carrier: str) -> ParseResult:
    """Parse a canonical JSON payload into events, with a per-item error for each invalid event."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise PayloadError(f"body is not valid JSON: {exc}") from None
    items = doc.get("events") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise PayloadError('expected an object with an "events" array, or an array of events')
    result = ParseResult()
    for index, item in enumerate(items):
        try:
            result.add(event_from_dict(item, carrier), index)
        except ItemInvalid as exc:
            result.reject(index, str(exc), exc.field)
    return result


def event_from_dict(item: Any, carrier: str) -> ScanEvent:
    """Validate one canonical event object and build the ScanEvent."""
    if not isinstance(item, dict):
        raise ItemInvalid("", "each event must be a JSON object")
    number = _text(item, "tracking_number", required=True)
    assert number is not None
    number = normalize_number(number)
    if not well_formed_number(number):
        raise ItemInvalid("tracking_number", "tracking_number must be 5 to 40 Latin letters or digits")
    status_raw = item.get("status")
    if not isinstance(status_raw, str):
        raise ItemInvalid("status", "status is required and must be a string")
    substatus_raw = item.get("substatus")
    if substatus_raw is not None and not isinstance(substatus_raw, str):
        raise ItemInvalid("substatus", "substatus must be a string")
    try:
        status, substatus = parse_status(status_raw, substatus_raw)
    except UnknownStatus as exc:
        field = "substatus" if "substatus" in str(exc) else "status"
        raise ItemInvalid(field, str(exc)) from None
    return ScanEvent(
        tracking_number=number,
        status=status,
        substatus=substatus,
        occurred_at=parse_instant(item.get("occurred_at"), "occurred_at"),
        carrier=carrier,
        location=_location(item.get("location")),
        description=_text(item, "description") or "",
        raw_code=_text(item, "raw_code"),
        linked_numbers=_linked(item.get("linked_numbers")),
    )


def parse_instant(value: Any, field: str) -> datetime:
    """An ISO 8601 timestamp that must carry a UTC offset (``Z`` allowed)."""
    if not isinstance(value, str) or not value:
        raise ItemInvalid(field, f"{field} is required: an ISO 8601 time with a UTC offset")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ItemInvalid(field, f"{field} {value!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise ItemInvalid(field, f"{field} {value!r} has no UTC offset (add Z or +08:00)")
    return moment


def _text(item: dict[str, Any], key: str, required: bool = False) -> str | None:
    value = item.get(key)
    if value is None or value == "":
        if required:
            raise ItemInvalid(key, f"{key} is required")
        return None
    if not isinstance(value, str):
        raise ItemInvalid(key, f"{key} must be a string")
    if len(value) > MAX_TEXT:
        raise ItemInvalid(key, f"{key} is longer than {MAX_TEXT} characters")
    return value.strip()


def _location(value: Any) -> Location:
    if value is None:
        return Location()
    if isinstance(value, str):
        return Location(name=value.strip() or None)
    if not isinstance(value, dict):
        raise ItemInvalid("location", "location must be an object or a string")
    if value and not any(key in value for key in LOCATION_FIELDS):
        unknown = ", ".join(repr(str(key)[:40]) for key in list(value)[:5])
        raise ItemInvalid(
            "location", f"location names none of {', '.join(LOCATION_FIELDS)} (it has {unknown})"
        )
    country = value.get("country")
    if country is not None and (not isinstance(country, str) or not is_country(country)):
        shown = repr(country[:40]) if isinstance(country, str) else "a non-string"
        raise ItemInvalid(
            "location.country",
            f"location.country must be an ISO 3166-1 alpha-2 code such as CN or RU, not {shown}",
        )
    lat, lon = _coordinate(value, "lat", 90.0), _coordinate(value, "lon", 180.0)
    if (lat is None) != (lon is None):
        raise ItemInvalid("location", "location needs both lat and lon, or neither")
    name_value = value.get("name")
    postcode = value.get("postcode")
    for key, text in (("name", name_value), ("postcode", postcode)):
        if text is not None and (not isinstance(text, str) or len(text) > 200):
            raise ItemInvalid(f"location.{key}", f"location.{key} must be a short string")
    return Location(
        name=(name_value or "").strip() or None,
        country=country.upper() if country else None,
        postcode=postcode or None,
        lat=lat,
        lon=lon,
    )


def _coordinate(value: dict[str, Any], key: str, bound: float) -> float | None:
    number = value.get(key)
    if number is None:
        return None
    if isinstance(number, bool) or not isinstance(number, int | float):
        raise ItemInvalid(f"location.{key}", f"location.{key} must be a number")
    if not math.isfinite(number) or abs(number) > bound:
        raise ItemInvalid(f"location.{key}", f"location.{key} must be within ±{bound:g}")
    return float(number)


def _linked(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ItemInvalid("linked_numbers", "linked_numbers must be a list of tracking numbers")
    return tuple(normalize_number(v) for v in value)
