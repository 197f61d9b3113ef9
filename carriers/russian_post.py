"""Russian Post tracking API answers (SOAP XML): single-access and batch.

Two shapes arrive (docs/formats/russian_post.md):

* ``getOperationHistoryResponse`` (single access): one ``historyRecord`` per operation, each with
  ``ItemParameters/Barcode``, ``OperationParameters/{OperType,OperAttr}/Id`` and ``OperDate`` (ISO 8601
  with the office's UTC offset) and ``AddressParameters/{OperationAddress/{Index,Description},
  CountryOper/Code2A}``. Item index = the record's position.
* ``answerByTicketResponse`` (batch, getResponseByTicket): ``Item[@Barcode]`` elements holding
  ``Operation`` elements with attributes ``OperTypeID``, ``OperCtgID`` (= OperAttr), ``OperName``,
  ``DateOper`` ("dd.MM.yyyy HH:mm:ss", the office's local time with no offset) and ``IndexOper``; or an
  ``Error`` instead (e.g. 12, no data for that number). Item index = the Item's position. An ``Error``
  is Russian Post's answer for that barcode, not bad input: the item becomes a notice (ignored, named
  with its code and reason) and never rejects the batch.

OperType/OperAttr become canonical statuses through ``data/russian_post_codes.json``; a pair missing
from it still yields an event (its type's status, or in_transit/other) and is counted as unmapped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache, partial
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from carriers.base import ItemInvalid, add_or_reject
from carriers.russian_post_ticket import raise_for_ticket_error
from carriers.xmlfeed import attribute, children, descendants, first, load_xml, path, text
from tracking.events import (
    Location,
    ParseResult,
    PayloadError,
    ScanEvent,
    normalize_number,
    well_formed_number,
)
from tracking.numbers import origin_of
from tracking.statuses import Status, parse_status

name = "russian_post"
content_types = ("application/soap+xml", "text/xml", "application/xml")

DATA = Path(__file__).resolve().parent / "data"
GENERIC = (Status.IN_TRANSIT, "other")
BATCH_TIME_FORMATS = ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M")
MAX_NAME, MAX_DESCRIPTION = 200, 500


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation as Russian Post reported it, before mapping (the same for both answer shapes)."""

    barcode: str | None
    oper_type: str | None
    oper_attr: str | None
    when: str | None
    postcode: str | None = None
    office: str | None = None
    country: str | None = None
    type_name: str | None = None
    attr_name: str | None = None


def parse(raw: bytes, content_type: str, carrier: str) -> ParseResult:
    """Parse a getOperationHistory or getResponseByTicket answer into events and per-item errors."""
    root = load_xml(raw)
    fault = first(root, "Fault")
    if fault is not None:
        reason = text(fault, "faultstring") or text(fault, "Reason", "Text") or "no reason given"
        raise PayloadError(f"Russian Post answered with a SOAP fault: {reason[:300]}")
    result = ParseResult()
    history = first(root, "OperationHistoryData")
    if history is None:
        history = first(root, "getOperationHistoryResponse")
    if history is not None:
        _parse_history(history, carrier, result)
        return result
    answer = first(root, "answerByTicketResponse")
    if answer is None:
        raise PayloadError("expected a getOperationHistory or getResponseByTicket answer from Russian Post")
    raise_for_ticket_error(answer)
    _parse_batch(answer, carrier, result)
    return result


def _parse_history(history: Element, carrier: str, result: ParseResult) -> None:
    records = list(descendants(history, "historyRecord"))
    # Every record normally repeats the barcode; if one does not, the others tell which item it is.
    known = next((b for r in records if (b := text(r, "ItemParameters", "Barcode"))), None)
    for index, record in enumerate(records):
        operation = _history_operation(record, known)
        add_or_reject(result, index, partial(to_event, operation, carrier))


def _history_operation(record: Element, known_barcode: str | None) -> Operation:
    params = path(record, "OperationParameters")
    address = path(record, "AddressParameters")
    return Operation(
        barcode=text(record, "ItemParameters", "Barcode") or known_barcode,
        oper_type=text(params, "OperType", "Id"),
        oper_attr=text(params, "OperAttr", "Id"),
        when=text(params, "OperDate"),
        postcode=text(address, "OperationAddress", "Index"),
        office=text(address, "OperationAddress", "Description"),
        country=text(address, "CountryOper", "Code2A"),
        type_name=text(params, "OperType", "Name"),
        attr_name=text(params, "OperAttr", "Name"),
    )


def _parse_batch(answer: Element, carrier: str, result: ParseResult) -> None:
    for index, item in enumerate(descendants(answer, "Item")):
        barcode = attribute(item, "Barcode")
        errors = children(item, "Error")
        if errors:
            _notice(result, index, barcode, errors[0])
            continue
        for position, element in enumerate(children(item, "Operation")):
            operation = Operation(
                barcode=barcode,
                oper_type=attribute(element, "OperTypeID"),
                oper_attr=attribute(element, "OperCtgID"),
                when=attribute(element, "DateOper"),
                postcode=attribute(element, "IndexOper"),
                type_name=attribute(element, "OperName"),
            )
            read = partial(to_event, operation, carrier)
            add_or_reject(result, index, read, f"operation {position}", f"Operation[{position}]")


def _notice(result: ParseResult, index: int, barcode: str | None, error: Element) -> None:
    """An item Russian Post answered with an ``Error`` for: a notice naming the barcode and the reason."""
    number = normalize_number(barcode or "")
    code = attribute(error, "ErrorTypeID") or "?"
    if not well_formed_number(number):
        # Russian Post names the barcode it answers for: an answer without one is not its answer.
        message = f"an Item with Error {code[:20]} must have a Barcode of 5 to 40 letters or digits"
        result.reject(index, message, "Barcode")
        return
    reason = " ".join((attribute(error, "ErrorName") or "").split()) or "no description"
    result.notice(index, number, code[:20], reason[:300])


def to_event(operation: Operation, carrier: str) -> tuple[ScanEvent, str | None]:
    """The canonical event for one operation, and its raw code if the code table had no entry for it."""
    barcode = normalize_number(operation.barcode or "")
    if not well_formed_number(barcode):
        raise ItemInvalid("Barcode", "Barcode must be 5 to 40 Latin letters or digits")
    oper_type, oper_attr = operation.oper_type, operation.oper_attr
    if oper_type is None or not oper_type.isdigit() or len(oper_type) > 6:
        raise ItemInvalid("OperType", "OperType is required and must be a number")
    if oper_attr is not None and (not oper_attr.isdigit() or len(oper_attr) > 6):
        raise ItemInvalid("OperAttr", "OperAttr must be a number")
    (status, substatus), attr_name, mapped = classify(oper_type, oper_attr)
    country = operation.country.upper() if operation.country and _is_alpha2(operation.country) else None
    origin = origin_of(barcode)
    if country in (None, "RU") and origin is not None and origin.origin_country == "RU":
        status, substatus = export_reading(status, substatus)  # Russian export customs, not import
    raw_code = f"{oper_type}.{oper_attr}" if oper_attr is not None else oper_type
    postcode = operation.postcode if operation.postcode and len(operation.postcode) <= 20 else None
    event = ScanEvent(
        tracking_number=barcode,
        status=status,
        substatus=substatus,
        occurred_at=occurred_at(operation.when, postcode),
        carrier=carrier,
        location=Location(
            name=(operation.office or "")[:MAX_NAME] or None, country=country, postcode=postcode
        ),
        description=_description(operation.type_name, operation.attr_name or attr_name),
        raw_code=raw_code,
    )
    return event, None if mapped else raw_code


def classify(oper_type: str, oper_attr: str | None) -> tuple[tuple[Status, str], str | None, bool]:
    """Status pair, Russian attribute name and whether the pair is in the code table."""
    types, pairs = _codes()
    if oper_attr is not None and f"{oper_type}.{oper_attr}" in pairs:
        pair, attr_name = pairs[f"{oper_type}.{oper_attr}"]
        return pair, attr_name, True
    if oper_type in types:
        return types[oper_type][0], None, False
    return GENERIC, None, False


def export_reading(status: Status, substatus: str) -> tuple[Status, str]:
    """The reading for a Russian-origin item scanned in Russia: its customs are export customs."""
    found = _codes_doc()["export_readings"].get(f"{status.value}/{substatus}")
    return (status, substatus) if found is None else parse_status(found["status"], found["substatus"])


def occurred_at(value: str | None, postcode: str | None) -> datetime:
    """An operation time: its own offset when it carries one, else the office's zone from the postcode."""
    if not value:
        raise ItemInvalid("OperDate", "the operation date is missing")
    moment = _parse_moment(value)
    if moment.tzinfo is None:
        moment = _localize(moment, postcode)
    if not 2000 <= moment.year <= 2100:
        raise ItemInvalid("OperDate", f"operation date {value[:40]!r} is outside the years 2000 to 2100")
    return moment


def _parse_moment(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        pass
    for pattern in BATCH_TIME_FORMATS:
        try:
            return datetime.strptime(value, pattern)
        except ValueError:
            continue
    raise ItemInvalid("OperDate", f"operation date {value[:40]!r} is not a date Russian Post sends")


def _localize(moment: datetime, postcode: str | None) -> datetime:
    """Attach the office's UTC offset at that instant, as a fixed offset so it reads like the single API."""
    zone_name, fallback = office_zone(postcode)
    try:
        aware = moment.replace(tzinfo=ZoneInfo(zone_name))
    except (ZoneInfoNotFoundError, ValueError):
        # No tz database on this machine: today's offset, right for recent scans.
        return moment.replace(tzinfo=fallback)
    offset = aware.utcoffset()
    return moment.replace(tzinfo=timezone(offset) if offset is not None else fallback)


def office_zone(postcode: str | None) -> tuple[str, timezone]:
    """The IANA zone and today's fixed offset of the office with this postcode (Moscow when unknown)."""
    zones, default = _zones()
    prefix = postcode[:3] if postcode and len(postcode) == 6 and postcode.isdigit() else ""
    # Unknown prefixes (foreign offices, new regions, typos) fall back to Moscow time: the international
    # exchange and main sorting centres on the China corridor work on it.
    return zones.get(prefix, default)


def _description(type_name: str | None, attr_name: str | None) -> str:
    parts = [p for p in (type_name, attr_name) if p]
    if len(parts) == 2 and parts[0] == parts[1]:
        parts = parts[:1]
    return ": ".join(parts)[:MAX_DESCRIPTION]


def _is_alpha2(value: str) -> bool:
    return len(value) == 2 and value.isascii() and value.isalpha()


@cache
def _codes_doc() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((DATA / "russian_post_codes.json").read_text(encoding="utf-8"))
    return doc


@cache
def _codes() -> tuple[dict[str, tuple[tuple[Status, str], str]], dict[str, tuple[tuple[Status, str], str]]]:
    doc = _codes_doc()

    def load(section: dict[str, Any]) -> dict[str, tuple[tuple[Status, str], str]]:
        return {
            code: (parse_status(e["status"], e["substatus"]), e.get("name", ""))
            for code, e in section.items()
        }

    return load(doc["types"]), load(doc["pairs"])


@cache
def _zones() -> tuple[dict[str, tuple[str, timezone]], tuple[str, timezone]]:
    doc: dict[str, Any] = json.loads((DATA / "russian_post_postcode_zones.json").read_text(encoding="utf-8"))
    table: dict[str, tuple[str, timezone]] = {}
    for region in doc["regions"]:
        zone = (region["tz"], _fixed(region["utc_offset"]))
        for span in region["prefixes"]:
            low, _, high = span.partition("-")
            for prefix in range(int(low), int(high or low) + 1):
                table[f"{prefix:03d}"] = zone
    fallback = doc["fallback"]
    return table, (fallback["tz"], _fixed(fallback["utc_offset"]))


def _fixed(offset: str) -> timezone:
    sign = -1 if offset.startswith("-") else 1
    hours, _, minutes = offset.lstrip("+-").partition(":")
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes or 0)))
