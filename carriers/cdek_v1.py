"""CDEK API v1.5 ``StatusReport`` (XML), the legacy pull format: each Order's full status history.

``<StatusReport><Order DispatchNumber="..." Number="..."><Status Date Code Description CityName>
<State Date Code Description CityCode CityName/>...</Status>...</Order></StatusReport>``. Every
``State`` is one event (the ``Status`` element repeats the latest one and is used only when an order
has no ``State`` history). ``DispatchNumber`` is CDEK's tracking number; ``Number`` is the shop's order
number and is not used. Numeric codes map through ``data/cdek_status_codes.json`` (section
"numeric"). Reason, DelayReason, Call and Package are not events and are left out. Item index = the
Order's position.
"""

from __future__ import annotations

from functools import partial
from xml.etree.ElementTree import Element

from carriers.base import ItemInvalid, add_or_reject
from carriers.cdek import GENERIC, parse_time, tracking_number
from carriers.cdek import numeric_status as cdek_numeric_status
from carriers.xmlfeed import attribute, child, children, first, load_xml, local
from tracking.events import Location, ParseResult, PayloadError, ScanEvent

name = "cdek_v1"
content_types = ("application/xml", "text/xml")

MAX_TEXT = 200


def parse(raw: bytes, content_type: str, carrier: str) -> ParseResult:
    """Parse a CDEK v1 StatusReport into one event per State, with per-order errors."""
    root = load_xml(raw)
    report = root if local(root) == "StatusReport" else first(root, "StatusReport")
    if report is None:
        raise PayloadError("expected a CDEK StatusReport document")
    result = ParseResult()
    for index, order in enumerate(children(report, "Order")):
        try:
            number = tracking_number(attribute(order, "DispatchNumber"), "DispatchNumber")
        except ItemInvalid as exc:
            result.reject(index, str(exc), exc.field)
            continue
        status = child(order, "Status")
        states = children(status, "State") if status is not None else []
        if not states and status is not None and attribute(status, "Code"):
            states = [status]
        for position, state in enumerate(states):
            read = partial(state_event, state, number, carrier)
            add_or_reject(result, index, read, f"state {position}", f"Status.State[{position}]")
    return result


def state_event(state: Element, number: str, carrier: str) -> tuple[ScanEvent, str | None]:
    """The event for one State element, and its code if the code table lacks it."""
    code = attribute(state, "Code")
    if code is None or len(code) > 20:
        raise ItemInvalid("Code", "Code is required: CDEK's numeric status code")
    known = cdek_numeric_status(code)
    (status, substatus), label = known if known is not None else (GENERIC, "")
    city = (attribute(state, "CityName") or "")[:MAX_TEXT] or None
    return (
        ScanEvent(
            tracking_number=number,
            status=status,
            substatus=substatus,
            occurred_at=parse_time(attribute(state, "Date"), "Date"),
            carrier=carrier,
            # v1 names cities only; CDEK's v1 reports are for Russian shipments, like v2 without a country.
            location=Location(name=city, country="RU") if city else Location(),
            description=(attribute(state, "Description") or label)[:MAX_TEXT],
            raw_code=code,
        ),
        None if known is not None else code,
    )
