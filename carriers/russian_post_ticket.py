"""Russian Post batch ("packet") tracking: the two-step ticket flow, as pure request builders and parsers.

A scheduler sends ``build_ticket_request(numbers, ...)`` to the batch service (SOAP 1.1, method
getTicket, at most 3000 numbers), keeps the id from ``parse_ticket_id``, and no sooner than 15 minutes
later sends ``build_answer_request(ticket, ...)`` (getResponseByTicket). The answer goes to
``carriers.russian_post.parse``, which raises ``TicketNotReady`` while the service is still working
(poll again, at most every 15 minutes) and ``TicketExpired`` once the answer is gone (kept 32 hours:
ask for a new ticket). Source: Russian Post tracking API specification, "Remote batch access",
sections 3 and 4 (mirrored in LasGIS/Prototype, tracking-portal-web/.../specification/BatchEn.tsx).
Nothing here touches the network.
"""

from __future__ import annotations

from collections.abc import Iterable
from xml.etree.ElementTree import Element, SubElement, tostring

from carriers.xmlfeed import attribute, first, load_xml, local, text
from tracking.events import PayloadError, normalize_number

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
POSTSERVER = "http://fclient.russianpost.org/postserver"
FCLIENT = "http://fclient.russianpost.org"
MAX_NUMBERS = 3000
NOT_READY = "6"
EXPIRED = "17"


class TicketError(PayloadError):
    """The batch service answered for the whole ticket with an error instead of items."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"Russian Post ticket error {code}: {message}")
        self.code = code


class TicketNotReady(TicketError):
    """ErrorTypeID 6: the answer is not ready yet; poll the same ticket again later."""


class TicketExpired(TicketError):
    """ErrorTypeID 17: the answer was deleted after its 32 hours; ask for a new ticket."""


def build_ticket_request(numbers: Iterable[str], login: str, password: str, language: str = "RUS") -> bytes:
    """The getTicket SOAP request for up to 3000 tracking numbers."""
    barcodes = list(dict.fromkeys(normalize_number(n) for n in numbers if n.strip()))
    if not 1 <= len(barcodes) <= MAX_NUMBERS:
        raise ValueError(f"a ticket holds 1 to {MAX_NUMBERS} tracking numbers, got {len(barcodes)}")
    if language not in ("RUS", "ENG"):
        raise ValueError("language must be RUS or ENG")
    envelope, method = _envelope("ticketRequest")
    request = SubElement(method, "request")
    for barcode in barcodes:
        SubElement(request, f"{{{FCLIENT}}}Item", Barcode=barcode)
    _credentials(method, login, password)
    SubElement(method, "language").text = language
    return _serialize(envelope)


def build_answer_request(ticket: str, login: str, password: str) -> bytes:
    """The getResponseByTicket SOAP request for a ticket id."""
    if not ticket.strip():
        raise ValueError("ticket is empty")
    envelope, method = _envelope("answerByTicketRequest")
    SubElement(method, "ticket").text = ticket.strip()
    _credentials(method, login, password)
    return _serialize(envelope)


def parse_ticket_id(raw: bytes) -> str:
    """The ticket id from a getTicket answer; TicketError when the service refused the request."""
    root = load_xml(raw)
    answer = first(root, "ticketResponse")
    if answer is None:
        raise PayloadError("expected a getTicket answer (ticketResponse)")
    raise_for_ticket_error(answer)
    ticket = text(answer, "value")
    if ticket is None:
        raise PayloadError("getTicket answer has no ticket id (value)")
    return ticket


def raise_for_ticket_error(answer: Element) -> None:
    """Raise TicketError (or a subclass) if the answer carries a ticket-level error element."""
    error = _ticket_error(answer)
    if error is None:
        return
    code = attribute(error, "ErrorTypeID") or text(error, "ErrorTypeID") or "?"
    message = attribute(error, "ErrorName") or text(error, "ErrorName") or "no description"
    kind = {NOT_READY: TicketNotReady, EXPIRED: TicketExpired}.get(code, TicketError)
    raise kind(code, message[:300])


def _ticket_error(answer: Element) -> Element | None:
    # A per-item error (<Item><Error/></Item>) is not a ticket error: never look inside items.
    # Walked with an explicit stack so that a deeply nested hostile body cannot exhaust recursion.
    stack = list(reversed(answer))
    while stack:
        node = stack.pop()
        name = local(node)
        if name == "Item":
            continue
        if name.lower() == "error":
            return node
        stack.extend(reversed(node))
    return None


def _envelope(method: str) -> tuple[Element, Element]:
    envelope = Element(f"{{{SOAP_ENV}}}Envelope")
    SubElement(envelope, f"{{{SOAP_ENV}}}Header")
    body = SubElement(envelope, f"{{{SOAP_ENV}}}Body")
    return envelope, SubElement(body, f"{{{POSTSERVER}}}{method}")


def _serialize(envelope: Element) -> bytes:
    data: bytes = tostring(envelope, encoding="utf-8", xml_declaration=True)
    return data


def _credentials(request: Element, login: str, password: str) -> None:
    if not login or not password:
        raise ValueError("login and password are required")
    SubElement(request, "login").text = login
    SubElement(request, "password").text = password
