"""Carrier code tables and the country table, read from ``carriers/data/*.json``.

A code table file holds sections (top-level keys not starting with "_"); each section maps a carrier
code to ``{"status", "substatus"}`` plus optional ``"leg"`` (where the scan happens: origin,
destination or none), ``"failure"`` (the pair for an unseen ``*_FAILURE`` code under a prefix) and
``"override"`` (the pair wins over the item's main status). Every pair is checked against the
canonical taxonomy when the table is loaded, so a typo fails at import time, not at ingestion.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

from tracking.events import normalize_text
from tracking.statuses import Status, parse_status

DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True, slots=True)
class Mapping:
    """A carrier code's canonical meaning."""

    status: Status
    substatus: str
    leg: str | None = None
    failure: tuple[Status, str] | None = None
    override: bool = False


GENERIC = Mapping(Status.IN_TRANSIT, "other")


def _pair(entry: dict[str, Any]) -> tuple[Status, str]:
    return parse_status(entry["status"], entry.get("substatus"))


def _mapping(entry: dict[str, Any]) -> Mapping:
    status, substatus = _pair(entry)
    failure = _pair(entry["failure"]) if "failure" in entry else None
    return Mapping(status, substatus, entry.get("leg"), failure, bool(entry.get("override", False)))


@cache
def code_table(name: str) -> dict[str, dict[str, Mapping]]:
    """The sections of ``carriers/data/<name>.json``, each mapping a code to its canonical meaning."""
    doc = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    return {
        section: {code: _mapping(entry) for code, entry in entries.items()}
        for section, entries in doc.items()
        if not section.startswith("_")
    }


def by_prefix(prefixes: dict[str, Mapping], code: str) -> Mapping | None:
    """The mapping of the longest prefix of ``code`` in ``prefixes``, if any."""
    best = max((p for p in prefixes if code.startswith(p)), key=len, default=None)
    return prefixes[best] if best is not None else None


@cache
def _countries() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((DATA / "countries.json").read_text(encoding="utf-8"))
    return doc


def country_code(value: Any) -> str | None:
    """An ISO 3166 alpha-2 code from a country name, an alpha-3 or an alpha-2 code; None if unknown."""
    if not isinstance(value, str) or len(value) > 100:
        return None
    key = normalize_text(value)
    table = _countries()
    if key in table["names"]:
        return str(table["names"][key])
    upper = key.upper()
    if upper in table["alpha3"]:
        return str(table["alpha3"][upper])
    return upper if is_country(upper) else None


@cache
def _alpha2() -> frozenset[str]:
    return frozenset(_countries()["alpha2"])


def iso_countries() -> list[str]:
    """The 249 ISO 3166-1 alpha-2 codes, sorted."""
    return sorted(_alpha2())


def is_country(code: str) -> bool:
    """True when ``code`` (any case) is one of the 249 ISO 3166-1 alpha-2 codes (countries.json)."""
    return len(code) == 2 and code.upper() in _alpha2()


def local_zone(country: str | None, default: timezone = UTC) -> timezone:
    """The fixed offset to read a zone-less wall-clock time from ``country`` in (see countries.json)."""
    minutes = _countries()["local_offsets_minutes"].get(country or "")
    return timezone(timedelta(minutes=minutes)) if isinstance(minutes, int) else default
