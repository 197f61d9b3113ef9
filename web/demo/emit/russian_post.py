"""Russian Post SOAP 1.2 ``getOperationHistoryResponse`` bodies, shaped like the single-access answer.

As in tests/fixtures/samples/russianpost_getOperationHistory_response_domestic.xml: one ``historyRecord`` per
operation with ``AddressParameters`` (office ``Index`` and ``Description``, ``CountryOper``),
``FinanceParameters``, ``ItemParameters/Barcode`` and ``OperationParameters`` (``OperType``/``OperAttr``
with their Russian names, ``OperDate`` in the office's own UTC offset, milliseconds included). A batch
carries the records of many barcodes, each record naming its own.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from web.demo.calendar import zone
from web.demo.journeys import Scan
from web.demo.world import World

CONTENT_TYPE = "application/soap+xml; charset=utf-8"
CODES_FILE = Path(__file__).resolve().parents[3] / "carriers" / "data" / "russian_post_codes.json"

HEAD = (
    "<?xml version='1.0' encoding='UTF-8'?>"
    '<S:Envelope xmlns:S="http://www.w3.org/2003/05/soap-envelope"><S:Body>'
    '<ns7:getOperationHistoryResponse xmlns:ns2="http://russianpost.org/sms-info/data" '
    'xmlns:ns3="http://russianpost.org/operationhistory/data" '
    'xmlns:ns4="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:ns5="http://www.russianpost.org/custom-duty-info/data" '
    'xmlns:ns6="http://www.russianpost.org/RTM/DataExchangeESPP/Data" '
    'xmlns:ns7="http://russianpost.org/operationhistory"><ns3:OperationHistoryData>'
)
TAIL = "</ns3:OperationHistoryData></ns7:getOperationHistoryResponse></S:Body></S:Envelope>"
COUNTRIES = {
    "RU": ("643", "RU", "RUS", "Российская Федерация", "Russian Federation"),
    "CN": ("156", "CN", "CHN", "Китай", "China"),
}


@cache
def names() -> tuple[dict[str, str], dict[str, str]]:
    """Russian Post's own names of operation types and attributes (OperType, "OperType.OperAttr")."""
    doc = json.loads(CODES_FILE.read_text(encoding="utf-8"))
    types = {code: entry.get("name", "") for code, entry in doc["types"].items()}
    pairs = {code: entry.get("name", "") for code, entry in doc["pairs"].items()}
    return types, pairs


def _country(tag: str, code: str) -> str:
    num, two, three, ru, en = COUNTRIES[code]
    return (
        f"<ns3:{tag}><ns3:Id>{num}</ns3:Id><ns3:Code2A>{two}</ns3:Code2A><ns3:Code3A>{three}</ns3:Code3A>"
        f"<ns3:NameRU>{ru}</ns3:NameRU><ns3:NameEN>{en}</ns3:NameEN></ns3:{tag}>"
    )


def office_of(world: World, scan: Scan) -> tuple[str, str]:
    """The office postcode and name of a scan."""
    if scan.office:
        return scan.office
    known = world.offices["russian_post"].get(scan.place)
    if known:
        return str(known["index"]), str(known["description"])
    return world.offices["city_postcodes"].get(scan.place, "101000"), scan.place


def oper_date(world: World, scan: Scan, postcode: str) -> str:
    """OperDate: the office's wall clock with its offset, milliseconds as the service writes them."""
    place = world.place(scan.place)
    local = scan.at.astimezone(zone(place.timezone))
    millis = "001" if int(postcode) % 2 else "000"
    return (
        local.strftime(f"%Y-%m-%dT%H:%M:%S.{millis}")
        + local.strftime("%z")[:3]
        + ":"
        + local.strftime("%z")[3:]
    )


def record(world: World, scan: Scan) -> str:
    """One historyRecord."""
    oper_type, _, oper_attr = scan.code.partition(".")
    types, pairs = names()
    postcode, description = office_of(world, scan)
    imported = oper_type in {"9", "11", "14"}
    s10 = not scan.number.isdigit()
    address = (
        f"<ns3:OperationAddress><ns3:Index>{postcode}</ns3:Index>"
        f"<ns3:Description>{escape(description)}</ns3:Description></ns3:OperationAddress>"
    )
    if imported:
        address += _country("CountryFrom", "CN")
    address += _country("CountryOper", "RU")
    return (
        "<ns3:historyRecord>"
        f"<ns3:AddressParameters>{address}</ns3:AddressParameters>"
        "<ns3:FinanceParameters><ns3:CustomDuty>0</ns3:CustomDuty></ns3:FinanceParameters>"
        f"<ns3:ItemParameters><ns3:Barcode>{scan.number}</ns3:Barcode>"
        f"<ns3:ValidRuType>{str(not s10).lower()}</ns3:ValidRuType>"
        f"<ns3:ValidEnType>{str(s10).lower()}</ns3:ValidEnType>"
        "<ns3:ComplexItemName>Мелкий пакет международный</ns3:ComplexItemName></ns3:ItemParameters>"
        "<ns3:OperationParameters>"
        f"<ns3:OperType><ns3:Id>{oper_type}</ns3:Id><ns3:Name>{escape(types.get(oper_type, ''))}</ns3:Name>"
        "</ns3:OperType>"
        f"<ns3:OperAttr><ns3:Id>{oper_attr or 0}</ns3:Id>"
        f"<ns3:Name>{escape(pairs.get(scan.code, ''))}</ns3:Name></ns3:OperAttr>"
        f"<ns3:OperDate>{oper_date(world, scan, postcode)}</ns3:OperDate>"
        "</ns3:OperationParameters>"
        "<ns3:UserParameters><ns3:Sndr></ns3:Sndr><ns3:Rcpn></ns3:Rcpn></ns3:UserParameters>"
        "</ns3:historyRecord>"
    )


def payload(world: World, scans: Sequence[Scan]) -> bytes:
    """A getOperationHistoryResponse envelope holding these operations."""
    return (HEAD + "".join(record(world, s) for s in scans) + TAIL).encode("utf-8")
