"""Silkway's CSV format for small carriers: one scan per row, validated like the canonical JSON format.

A header row is required; the columns (any order) are ``tracking_number,status,substatus,occurred_at,
location_name,country,postcode,description,raw_code,linked_numbers``, of which ``tracking_number``,
``status`` and ``occurred_at`` are required. ``linked_numbers`` holds numbers separated by ``;`` (quote
the field when ``;`` is also the delimiter). The body must be UTF-8 (a BOM is allowed), lines may end
in CRLF, and the delimiter is ``,`` or ``;``, chosen from the header row. Item index = data row number,
from 0, not counting the header or blank lines (docs/formats/csv.md).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from carriers.canonical import ItemInvalid, event_from_dict
from tracking.events import ParseResult, PayloadError

name = "csv"
content_types = ("text/csv", "application/csv")

COLUMNS = (
    "tracking_number",
    "status",
    "substatus",
    "occurred_at",
    "location_name",
    "country",
    "postcode",
    "description",
    "raw_code",
    "linked_numbers",
)
REQUIRED = ("tracking_number", "status", "occurred_at")
# Where a canonical field's error lands in CSV terms.
FIELD_TO_COLUMN = {
    "location.name": "location_name",
    "location.country": "country",
    "location.postcode": "postcode",
}
LOCATION_COLUMNS = {"location_name": "name", "country": "country", "postcode": "postcode"}


def parse(raw: bytes, content_type: str, carrier: str) -> ParseResult:
    """Parse a CSV body into events, with a per-row error (index and column) for each invalid row."""
    try:
        body = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PayloadError(f"CSV must be UTF-8: byte {exc.start} is not valid UTF-8") from None
    if "\x00" in body:
        raise PayloadError("CSV must be text: it contains a NUL byte")
    header_line = body.split("\n", 1)[0]
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    try:
        rows = list(csv.reader(io.StringIO(body, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise PayloadError(f"CSV is malformed: {exc}") from None
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise PayloadError("CSV is empty: a header row is required")
    header = read_header(rows[0])
    result = ParseResult()
    for index, row in enumerate(rows[1:]):
        if len(row) != len(header):
            result.reject(index, f"row has {len(row)} fields, the header has {len(header)}")
            continue
        try:
            result.add(event_from_dict(row_to_event(dict(zip(header, row, strict=True))), carrier), index)
        except ItemInvalid as exc:
            result.reject(index, str(exc), FIELD_TO_COLUMN.get(exc.field, exc.field) or None)
    return result


def read_header(cells: list[str]) -> list[str]:
    """The column names of a header row; PayloadError naming any unknown, duplicate or missing column."""
    header = [cell.strip().lower() for cell in cells]
    unknown = [cell for cell in header if cell not in COLUMNS]
    if unknown:
        names = ", ".join(repr(cell[:40]) for cell in unknown[:10])
        raise PayloadError(f"unknown CSV column(s) {names}; allowed columns: {', '.join(COLUMNS)}")
    duplicates = sorted({cell for cell in header if header.count(cell) > 1})
    if duplicates:
        raise PayloadError(f"CSV column(s) given twice: {', '.join(duplicates)}")
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        raise PayloadError(f"CSV header lacks required column(s): {', '.join(missing)}")
    return header


def row_to_event(row: dict[str, str]) -> dict[str, Any]:
    """A CSV row as a canonical event object (empty cells count as absent)."""
    cells = {column: value.strip() for column, value in row.items() if value.strip()}
    item: dict[str, Any] = {
        column: cells[column]
        for column in ("tracking_number", "status", "substatus", "occurred_at")
        if column in cells
    }
    for column in ("description", "raw_code"):
        if column in cells:
            item[column] = cells[column]
    location = {key: cells[column] for column, key in LOCATION_COLUMNS.items() if column in cells}
    if location:
        item["location"] = location
    if "linked_numbers" in cells:
        item["linked_numbers"] = [n.strip() for n in cells["linked_numbers"].split(";") if n.strip()]
    return item
