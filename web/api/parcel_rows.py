"""What the merchants' list adds to each parcel (its ETA and its public page) and its CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy.orm import Session

from tracking import models
from tracking.queries import public_parcel
from web.eta.lookup import parcel_eta

# The listing's query parameters; any other is a 400 naming it (web.api.merchants.list_own_parcels).
LIST_PARAMETERS = frozenset(
    {
        "status",
        "delayed",
        "updated_since",
        "reference",
        "origin",
        "destination",
        "carrier",
        "created_since",
        "created_before",
        "limit",
        "cursor",
        "format",
    }
)
CSV_LIMIT = 10_000  # the most rows (and the default) of one CSV export
CSV_COLUMNS = (
    "tracking_number",
    "identifiers",
    "reference",
    "status",
    "substatus",
    "status_at",
    "last_event_at",
    "origin",
    "destination",
    "service",
    "ship_at",
    "delayed",
    "stalled_at",
    "created_at",
    "updated_at",
    "eta_p10",
    "eta_p50",
    "eta_p90",
    "url",
)


def public_url(base: str, number: str | None) -> str | None:
    """The shopper's page of the parcel: ``{PUBLIC_URL}/track/{number}``."""
    if number is None:
        return None
    return f"{base.rstrip('/')}/track/{quote(number, safe='')}"


def list_etas(session: Session, parcels: Iterable[models.Parcel]) -> dict[int, dict[str, datetime] | None]:
    """Each parcel's ETA (p10, p50, p90) as the public API tells it now, or None when none can be told.

    The same lookup as ``GET /api/v1/parcels/{n}`` (web.eta.lookup.parcel_eta, with its cache), so a
    registered parcel without scans has the ETA of its route in the list as on the public page.
    """
    out: dict[int, dict[str, datetime] | None] = {}
    for parcel in parcels:
        out[parcel.id] = None
        if not parcel.identifiers:
            continue
        view = public_parcel(session, parcel.identifiers[0].number)
        answer = parcel_eta(session, view) if view is not None else None
        if answer is not None:
            estimate = answer.estimate
            out[parcel.id] = {"p10": estimate.p10, "p50": estimate.p50, "p90": estimate.p90}
    return out


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    text = str(value)
    # A cell a spreadsheet would run as a formula is quoted with an apostrophe (OWASP CSV injection).
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


def csv_text(items: Iterable[Mapping[str, Any]]) -> str:
    """The listed parcels as CSV with a header row (RFC 4180, CRLF line ends); the ETA in three columns."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for item in items:
        eta = item.get("eta") or {}
        row = {**item, "eta_p10": eta.get("p10"), "eta_p50": eta.get("p50"), "eta_p90": eta.get("p90")}
        writer.writerow([_cell(row.get(column)) for column in CSV_COLUMNS])
    return buffer.getvalue()
