"""17TRACK API v2 webhooks, format ``track17``.

``{"event": "TRACKING_UPDATED", "data": {"number", "track_info": {...}}}`` carries the whole history:
``track_info.tracking.providers[].events[]`` (one provider per carrier leg, newest event first). Each
event is one payload item, numbered across providers in payload order. ``TRACKING_STOPPED`` (and any
other event type), and a TRACKING_UPDATED whose history is still empty, carry no scans and are only
acknowledged (``result.ignored``); the empty update is also a notice naming the number (17TRACK has
nothing on it yet: its answer, not bad input).

Status: the event's ``sub_status``; for the newest event (the one equal to ``latest_event``) the
parcel's ``latest_status.sub_status``; else the event's milestone ``stage``; else ``in_transit/other``
without a code. Table: ``data/track17_statuses.json``. An unknown sub-status falls back to its main
status and is counted as unmapped.

Time: ``time_iso`` (local time with its offset) else ``time_utc``. Location: ``address`` (city,
country, postal code, coordinates) with the free-text ``location`` as name when there is no city.
``misc_info.local_number`` (the last-mile number after a hand-over) is linked on every event.

``verify_signature`` checks the ``sign`` header: hex SHA-256 of the raw body, "/", the API key.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from datetime import datetime
from typing import Any

from carriers.codetables import GENERIC, Mapping, code_table, country_code
from carriers.jsonfeed import (
    ItemInvalid,
    capped_location,
    linked,
    load_json,
    obj,
    parse_iso,
    text,
    tracking_number,
)
from tracking.events import Location, ParseResult, PayloadError, ScanEvent

name = "track17"
content_types = ("application/json",)

_TABLE = code_table("track17_statuses")


def verify_signature(raw_body: bytes, sign_header: str | None, secret: str | None) -> bool:
    """True when ``sign_header`` is 17TRACK's sign of ``raw_body``; False (fail closed) if one is missing."""
    if not sign_header or not secret:
        return False
    expected = hashlib.sha256(raw_body + b"/" + secret.encode("utf-8")).hexdigest()
    return hmac.compare_digest(expected, sign_header.strip().lower())


def parse(raw: bytes, content_type: str, carrier: str) -> ParseResult:
    """Parse a 17TRACK v2 webhook into events; TRACKING_STOPPED is acknowledged with no events."""
    doc = load_json(raw)
    if not isinstance(doc, dict) or not isinstance(doc.get("event"), str):
        raise PayloadError('expected a 17TRACK webhook object with an "event" string')
    result = ParseResult()
    if doc["event"] != "TRACKING_UPDATED":
        result.ignored += 1
        return result
    data = doc.get("data")
    if not isinstance(data, dict):
        raise PayloadError('a TRACKING_UPDATED webhook needs a "data" object')
    try:
        number = tracking_number(data.get("number"), "number")
    except ItemInvalid as exc:
        raise PayloadError(f"data.{exc}") from None
    info = obj(data.get("track_info"))
    local = linked([obj(info.get("misc_info")).get("local_number")], number)
    latest = _latest(info)
    events = _events(info)
    if not events:  # an update with no scans yet (as the other adapters do: acknowledged, counted)
        sub_status = latest[2]
        code = sub_status if sub_status and sub_status.startswith("NotFound") else "no_scans"
        result.notice(0, number, code[:40], "17TRACK has no scans for this number yet")
        return result
    for index, event in enumerate(events):
        try:
            scan, known = _scan(event, number, carrier, local, latest)
        except ItemInvalid as exc:
            result.reject(index, str(exc), exc.field or None)
            continue
        result.add(scan, index)
        if not known and scan.raw_code:
            result.note_unmapped(scan.raw_code)
    return result


def map_status(code: str | None, stage: str | None = None) -> tuple[Mapping, str | None, bool]:
    """The canonical meaning of a 17TRACK sub-status (or milestone stage), the code used, and if known."""
    if code:
        exact = _TABLE["sub_statuses"].get(code) or _TABLE["statuses"].get(code)
        if exact is not None:
            return exact, code, True
        main = _TABLE["statuses"].get(code.partition("_")[0])
        return main or GENERIC, code, False
    if stage:
        mapping = _TABLE["stages"].get(stage)
        return (mapping, stage, True) if mapping else (GENERIC, stage, False)
    return GENERIC, None, True


def _events(info: dict[str, Any]) -> list[Any]:
    providers = obj(info.get("tracking")).get("providers")
    events: list[Any] = []
    for provider in providers if isinstance(providers, list) else []:
        found = obj(provider).get("events")
        if isinstance(found, list):
            events.extend(found)
    return events


def _latest(info: dict[str, Any]) -> tuple[Any, Any, str | None]:
    event = obj(info.get("latest_event"))
    sub_status = text(obj(info.get("latest_status")).get("sub_status"))
    return event.get("time_utc"), event.get("description"), sub_status


def _scan(
    event: Any, number: str, carrier: str, local: tuple[str, ...], latest: tuple[Any, Any, str | None]
) -> tuple[ScanEvent, bool]:
    if not isinstance(event, dict):
        raise ItemInvalid("", "each event must be a JSON object")
    code = text(event.get("sub_status"))
    is_latest = event.get("time_utc") == latest[0] and event.get("description") == latest[1]
    if code is None and is_latest and latest[0] is not None:
        code = latest[2]
    mapping, raw_code, known = map_status(code, text(event.get("stage")))
    scan = ScanEvent(
        tracking_number=number,
        status=mapping.status,
        substatus=mapping.substatus,
        occurred_at=_instant(event),
        carrier=carrier,
        location=_location(event),
        description=text(event.get("description")) or "",
        raw_code=raw_code,
        linked_numbers=local,
    )
    return scan, known


def _instant(event: dict[str, Any]) -> datetime:
    errors: list[ItemInvalid] = []
    for field in ("time_iso", "time_utc"):
        try:
            moment = parse_iso(event.get(field), field)
        except ItemInvalid as exc:
            errors.append(exc)
            continue
        if moment is not None:
            return moment
    raise errors[0] if errors else ItemInvalid("time_iso", "an event needs time_iso or time_utc")


def _location(event: dict[str, Any]) -> Location:
    address = obj(event.get("address"))
    country = country_code(address.get("country"))
    free_text = text(event.get("location"))
    name_ = text(address.get("city")) or (free_text if free_text and free_text != country else None)
    coordinates = obj(address.get("coordinates"))
    lat, lon = _coordinate(coordinates.get("latitude"), 90), _coordinate(coordinates.get("longitude"), 180)
    postcode = text(address.get("postal_code"))
    if lat is None or lon is None:
        lat = lon = None
    return capped_location(name_, country, postcode, lat, lon)


def _coordinate(value: Any, bound: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) and abs(number) <= bound else None
