"""EasyPost trackers, format ``easypost``.

Accepted: the webhook Event (``{"object": "Event", "description": "tracker.updated" | "tracker.created",
"result": <Tracker>}``) and a Tracker object itself (the answer of ``POST /v2/trackers``). Events about
anything else (``batch.*``, ``shipment.*``, ...) are only acknowledged (``result.ignored``).

Each ``tracking_details[]`` entry is one payload item. ``status`` gives the generic canonical pair
and ``status_detail`` refines it (``data/easypost_statuses.json``); ``raw_code`` is
"<status>/<status_detail>" (the carrier's own short code, e.g. "AR", stays in the stored raw payload).
``datetime`` is UTC ("Z"). Location: ``tracking_location`` city, country and zip.
``carrier_detail.alternate_identifier`` (another number the carrier gives the parcel) is linked.
"""

from __future__ import annotations

from datetime import UTC
from functools import partial
from typing import Any

from carriers.codetables import GENERIC, Mapping, code_table, country_code
from carriers.jsonfeed import ItemInvalid, capped_location, linked, load_json, obj, required_time, text
from carriers.scans import ScanReader, TrackingShape, parse_tracking
from tracking.events import ParseResult, PayloadError, ScanEvent

name = "easypost"
content_types = ("application/json",)

_TABLE = code_table("easypost_statuses")
_SHAPE = TrackingShape(number="tracking_code", scans="tracking_details")
_TRACKER_EVENTS = ("tracker.updated", "tracker.created")


def parse(raw: bytes, content_type: str, carrier: str) -> ParseResult:
    """Parse an EasyPost Event or Tracker: one item per tracking detail."""
    return parse_tracking(_tracker(load_json(raw)), _SHAPE, partial(_detail_reader, carrier))


def map_status(status: str | None, detail: str | None) -> tuple[Mapping, bool]:
    """The canonical meaning of an EasyPost status and status_detail, and whether both were known."""
    main = _TABLE["statuses"].get(status or "")
    refined = _TABLE["details"].get(detail) if detail else None
    known = main is not None and (detail is None or refined is not None)
    base = main or GENERIC
    if refined is not None and (refined.override or refined.status == base.status):
        return refined, known
    return base, known


def _tracker(doc: Any) -> dict[str, Any] | None:
    if not isinstance(doc, dict):
        raise PayloadError("expected an EasyPost JSON object")
    if doc.get("object") == "Event":
        result = doc.get("result")
        if doc.get("description") not in _TRACKER_EVENTS:
            return None
        if not isinstance(result, dict) or result.get("object") != "Tracker":
            raise PayloadError('a tracker event needs a "result" Tracker object')
        return result
    if doc.get("object") == "Tracker" or "tracking_code" in doc:
        return doc
    raise PayloadError('expected an EasyPost Event or Tracker object ("object" field)')


def _detail_reader(carrier: str, tracker: dict[str, Any], number: str) -> ScanReader:
    links = linked([obj(tracker.get("carrier_detail")).get("alternate_identifier")], number)
    return partial(_event, number=number, carrier=carrier, links=links)


def _event(detail: Any, number: str, carrier: str, links: tuple[str, ...]) -> tuple[ScanEvent, bool]:
    if not isinstance(detail, dict):
        raise ItemInvalid("", "each tracking detail must be a JSON object")
    status, status_detail = text(detail.get("status")), text(detail.get("status_detail"))
    mapping, known = map_status(status, status_detail)
    moment = required_time(detail.get("datetime"), "datetime", UTC)
    place = obj(detail.get("tracking_location"))
    raw_code = f"{status}/{status_detail}" if status and status_detail else status or status_detail
    event = ScanEvent(
        tracking_number=number,
        status=mapping.status,
        substatus=mapping.substatus,
        occurred_at=moment,
        carrier=carrier,
        location=capped_location(
            text(place.get("city")), country_code(place.get("country")), text(place.get("zip"))
        ),
        description=text(detail.get("message")) or text(detail.get("description")) or "",
        raw_code=raw_code,
        linked_numbers=links,
    )
    return event, known
