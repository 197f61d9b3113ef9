"""What the JSON carrier formats share: reading the body, picking fields, numbers and clock times.

Every helper here is defensive: carrier payloads arrive with fields missing, null or of the wrong
type, and an adapter must turn that into a per-item error (``ItemInvalid``) or a ``PayloadError``
for the whole body, never into another exception.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson

from carriers.base import ItemInvalid as ItemInvalid
from tracking.events import Location, PayloadError, normalize_number, well_formed_number

MAX_TEXT = 2000
# Instants outside these years are typing errors or sentinels (epoch 0), not scans.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
BEIJING = timezone(timedelta(hours=8))

_OFFSET = re.compile(
    r"(?:GMT|UTC)?\s*(?:(?P<sign>[+-])\s*(?P<hours>[0-9]{1,2})(?::?(?P<minutes>[0-9]{2}))?)?",
    re.IGNORECASE | re.ASCII,
)


def load_json(raw: bytes) -> Any:
    """Decode a JSON body, turning any decoding failure into PayloadError."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise PayloadError(f"body is not valid JSON: {exc}") from None


def obj(value: Any) -> dict[str, Any]:
    """The value if it is a JSON object, else an empty one (absent and wrongly typed look alike)."""
    return value if isinstance(value, dict) else {}


def text(value: Any) -> str | None:
    """A trimmed, length-capped string from a string or integer field; None when absent or empty."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", "").strip()
    return value[:MAX_TEXT] or None


def tracking_number(value: Any, field: str) -> str:
    """A tracking number as stored (normalised), or ItemInvalid naming ``field``."""
    raw = text(value)
    number = normalize_number(raw) if raw else ""
    if not well_formed_number(number):
        raise ItemInvalid(field, f"{field} must be a tracking number of 5 to 40 letters or digits")
    return number


def linked(candidates: list[Any], own: str) -> tuple[str, ...]:
    """Distinct valid tracking numbers among ``candidates``, other than the parcel's own."""
    out: list[str] = []
    for candidate in candidates:
        raw = text(candidate)
        number = normalize_number(raw) if raw else ""
        if well_formed_number(number) and number != own and number not in out:
            out.append(number)
    return tuple(out)


def parse_gmt_offset(value: Any) -> timezone | None:
    """A fixed UTC offset from "GMT+8", "GMT+0800", "GMT-3", "UTC+05:30", "+8", "GMT" or "Z"; else None."""
    if not isinstance(value, str) or len(value) > 20:
        return None
    cleaned = value.strip()
    if cleaned.upper() == "Z":
        return UTC
    match = _OFFSET.fullmatch(cleaned)
    if not cleaned or match is None:
        return None
    if match["sign"] is None:
        # A bare "GMT" or "UTC" is UTC itself.
        return UTC if cleaned.upper() in ("GMT", "UTC") else None
    minutes = int(match["hours"]) * 60 + int(match["minutes"] or 0)
    if int(match["minutes"] or 0) >= 60 or minutes > 14 * 60:
        return None
    signed = -minutes if match["sign"] == "-" else minutes
    if signed < -12 * 60:
        return None
    return timezone(timedelta(minutes=signed))


def in_range(moment: datetime, field: str) -> datetime:
    """Return ``moment`` if it falls in the years 2000 to 2100, else ItemInvalid naming ``field``."""
    if not EARLIEST <= moment < LATEST:
        raise ItemInvalid(field, f"{field} is outside the years 2000 to 2100")
    return moment


def from_epoch_ms(value: Any, field: str) -> datetime | None:
    """A UTC instant from epoch milliseconds (number or digit string); None when absent or unusable."""
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or not EARLIEST.timestamp() * 1000 <= value < LATEST.timestamp() * 1000:
        raise ItemInvalid(field, f"{field} is outside the years 2000 to 2100")
    return datetime.fromtimestamp(value / 1000, UTC)


def parse_iso(value: Any, field: str, naive_zone: timezone | None = None) -> datetime | None:
    """An ISO 8601 time; a naive one is read in ``naive_zone`` (ItemInvalid if None); None when absent."""
    raw = text(value)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ItemInvalid(field, f"{field} {raw[:40]!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        if naive_zone is None:
            raise ItemInvalid(field, f"{field} {raw[:40]!r} has no UTC offset")
        moment = moment.replace(tzinfo=naive_zone)
    in_range(moment, field)
    return moment


def required_time(value: Any, field: str, naive_zone: timezone | None = None) -> datetime:
    """``parse_iso`` for the time a scan cannot do without: ItemInvalid "<field> is required" when absent."""
    moment = parse_iso(value, field, naive_zone)
    if moment is None:
        raise ItemInvalid(field, f"{field} is required")
    return moment


def capped_location(
    name: str | None,
    country: str | None = None,
    postcode: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
) -> Location:
    """A Location from a carrier's free text, cut to size: 200 characters of place name, 20 of postcode."""
    return Location(
        name=name[:200] if name else None,
        country=country,
        postcode=postcode[:20] if postcode else None,
        lat=lat,
        lon=lon,
    )
