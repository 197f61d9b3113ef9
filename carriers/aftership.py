"""AfterShip tracking payloads, format ``aftership``.

Accepted: the ``tracking_update`` webhook (``{"event", "event_id", "msg": <tracking>, "ts"}``), the
answer of ``GET /trackings/:slug/:number`` (``{"meta", "data": {"tracking": ...}}``) and a bare tracking
object. Other webhook events (``edd_revise``, ``tracking_pending_time``, ...) carry no scans and are
only acknowledged (``result.ignored``). The estimated-delivery-date prediction API (batch predict
request and result) is not a tracking feed and is refused with PayloadError.

Each ``checkpoints[]`` entry is one payload item. Its ``subtag`` (else ``tag``) is mapped through
``data/aftership_tags.json``; an unknown subtag falls back to its tag and is counted as unmapped.
``checkpoint_time`` normally carries the local offset; when the carrier gave none, the time is read
in the checkpoint country's usual offset (``countries.json``), else as UTC. ``next_couriers[]``
numbers (AfterShip's hand-over to another carrier) are linked on every event.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from carriers.codetables import GENERIC, Mapping, code_table, country_code, local_zone
from carriers.jsonfeed import ItemInvalid, capped_location, linked, load_json, obj, required_time, text
from carriers.scans import ScanReader, TrackingShape, parse_tracking
from tracking.events import ParseResult, PayloadError, ScanEvent

name = "aftership"
content_types = ("application/json",)

_TABLE = code_table("aftership_tags")
_SHAPE = TrackingShape(number="tracking_number", scans="checkpoints")
_EDD_ERROR = "AfterShip estimated-delivery-date payloads are predictions, not tracking feeds"


def parse(raw: bytes, content_type: str, carrier: str) -> ParseResult:
    """Parse an AfterShip tracking (webhook msg or GET answer): one item per checkpoint."""
    return parse_tracking(_tracking(load_json(raw)), _SHAPE, partial(_checkpoint_reader, carrier))


def map_subtag(subtag: str | None, tag: str | None = None) -> tuple[Mapping, bool]:
    """The canonical meaning of an AfterShip subtag (or tag), and whether the table knew it."""
    if subtag and subtag in _TABLE["subtags"]:
        return _TABLE["subtags"][subtag], True
    fallback = _TABLE["tags"].get(tag or (subtag or "").partition("_")[0])
    if subtag is None and fallback is not None:
        return fallback, True
    return fallback or GENERIC, False


def _tracking(doc: Any) -> dict[str, Any] | None:
    """The tracking object of the payload; None for a webhook event that carries none."""
    if not isinstance(doc, dict):
        raise PayloadError("expected an AfterShip JSON object")
    if "estimated_delivery_dates" in doc or "estimated_delivery_dates" in obj(doc.get("data")):
        raise PayloadError(_EDD_ERROR)
    event = doc.get("event")
    if isinstance(event, str):
        if event != "tracking_update":
            return None
        candidate = doc.get("msg")
    elif "data" in doc:
        candidate = obj(doc.get("data")).get("tracking")
    else:
        candidate = doc.get("tracking", doc)
    if not isinstance(candidate, dict) or "tracking_number" not in candidate:
        raise PayloadError('expected an AfterShip tracking object with "tracking_number"')
    return candidate


def _checkpoint_reader(carrier: str, tracking: dict[str, Any], number: str) -> ScanReader:
    couriers = tracking.get("next_couriers")
    next_numbers = [obj(c).get("tracking_number") for c in couriers] if isinstance(couriers, list) else []
    return partial(_event, number=number, carrier=carrier, links=linked(next_numbers, number))


def _event(checkpoint: Any, number: str, carrier: str, links: tuple[str, ...]) -> tuple[ScanEvent, bool]:
    if not isinstance(checkpoint, dict):
        raise ItemInvalid("", "each checkpoint must be a JSON object")
    subtag, tag = text(checkpoint.get("subtag")), text(checkpoint.get("tag"))
    mapping, known = map_subtag(subtag, tag)
    country = country_code(checkpoint.get("country_iso3")) or country_code(checkpoint.get("country_name"))
    moment = required_time(checkpoint.get("checkpoint_time"), "checkpoint_time", local_zone(country))
    place = text(checkpoint.get("city")) or text(checkpoint.get("location"))
    event = ScanEvent(
        tracking_number=number,
        status=mapping.status,
        substatus=mapping.substatus,
        occurred_at=moment,
        carrier=carrier,
        location=capped_location(place, country, text(checkpoint.get("zip"))),
        description=text(checkpoint.get("message")) or "",
        raw_code=subtag or tag,
        linked_numbers=links,
    )
    return event, known
