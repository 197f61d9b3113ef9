"""Russian Post batch answers (getResponseByTicket) for tests: the real sample's envelope around items
of the test's own operations, so that a payload has exactly the shape Russian Post sends."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from xml.sax.saxutils import quoteattr

from tests.carriers.samples import sample_bytes

SAMPLE = "russianpost_getResponseByTicket_batch_response.xml"
MOSCOW_MMPO = "102102"  # a Moscow postcode: the office's time zone is Moscow's (UTC+3)

Operation = tuple[str, str, str, datetime]
"""OperTypeID, OperCtgID, OperName and the office's local time of one operation."""


def batch_answer(barcode: str, operations: Sequence[Operation], postcode: str = MOSCOW_MMPO) -> bytes:
    """The real batch sample with its items replaced by one item of ``operations`` for ``barcode``."""
    text = sample_bytes(SAMPLE).decode("utf-8")
    head, tail = text.index("<ns3:Item "), text.rindex("</ns3:Item>") + len("</ns3:Item>")
    lines = [
        f"<ns3:Operation OperTypeID={quoteattr(kind)} OperCtgID={quoteattr(attr)} OperName={quoteattr(name)} "
        f'DateOper="{at:%d.%m.%Y %H:%M:%S}" IndexOper={quoteattr(postcode)}/>'
        for kind, attr, name, at in operations
    ]
    item = f"<ns3:Item Barcode={quoteattr(barcode)}>{''.join(lines)}</ns3:Item>"
    return (text[:head] + item + text[tail:]).encode("utf-8")
