"""What the XML carrier formats share: safe parsing and element lookup by local name.

Carrier XML is parsed with ``defusedxml`` only: entities, DTDs and external references are refused,
so a hostile body cannot expand or fetch anything. Elements are matched by their local name, so the
namespace prefixes a SOAP stack happens to choose (``ns3:``, ``S:``, none) do not matter.
"""

from __future__ import annotations

from collections.abc import Iterator
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_etree
from defusedxml import DefusedXmlException

from tracking.events import PayloadError


def load_xml(raw: bytes) -> Element:
    """Parse an XML body safely, turning any failure into PayloadError."""
    if not raw.strip():
        raise PayloadError("body is empty: expected an XML document")
    try:
        root: Element = safe_etree.fromstring(raw, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise PayloadError(f"XML refused: {type(exc).__name__} (DTDs and entities are not allowed)") from None
    except (ParseError, ValueError, LookupError) as exc:
        raise PayloadError(f"body is not well-formed XML: {exc}") from None
    return root


def local(element: Element) -> str:
    """The element's tag without its namespace."""
    tag = element.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def children(element: Element, name: str) -> list[Element]:
    """The direct children called ``name``."""
    return [child for child in element if local(child) == name]


def child(element: Element | None, name: str) -> Element | None:
    """The first direct child called ``name``, if any."""
    if element is None:
        return None
    return next((c for c in element if local(c) == name), None)


def path(element: Element | None, *names: str) -> Element | None:
    """Follow direct children by name (``path(record, "OperationParameters", "OperType")``)."""
    for name in names:
        element = child(element, name)
    return element


def text(element: Element | None, *names: str) -> str | None:
    """The stripped text at ``names`` below ``element``; None when absent or blank."""
    found = path(element, *names)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


def descendants(element: Element, name: str) -> Iterator[Element]:
    """Every element called ``name`` below (or at) ``element``, in document order."""
    return (e for e in element.iter() if local(e) == name)


def first(element: Element, name: str) -> Element | None:
    """The first element called ``name`` below (or at) ``element``."""
    return next(descendants(element, name), None)


def attribute(element: Element, name: str) -> str | None:
    """A stripped attribute value; None when absent or blank."""
    value = element.get(name)
    if value is None:
        return None
    return value.strip() or None
