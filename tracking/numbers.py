"""Tracking-number recognition: which carriers and formats a number may belong to, and is it well formed.

Rules and sources are in docs/tracking-numbers.md. Recognition is pure: no database, no network. The
format table (shapes, carriers, confidences, examples, each with its source) is data in
``data/number_formats.json``, the S10 issuers and service indicators in ``data/s10_operators.json``; the
checks (check digits, issuers) are the code below.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from tracking.events import normalize_number

DATA_FILE = Path(__file__).parent / "data" / "s10_operators.json"
# The formats: shapes, carriers, confidences, examples, and where each comes from.
FORMATS_FILE = Path(__file__).parent / "data" / "number_formats.json"

S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
LONGEST_FORMAT = 23  # the numeric Cainiao format; nothing longer is a tracking number we know

_ALNUM = re.compile(r"[A-Z0-9]+")


@dataclass(frozen=True, slots=True)
class Candidate:
    """One reading of a number: a carrier and format, how sure we are, and why.

    ``passes_checks`` is False for a reading whose shape fits but whose check digit or issuer code does
    not: it is kept (with a low confidence) so a user can see what the number was probably meant to be.
    """

    carrier: str
    format: str
    confidence: float
    detail: str
    passes_checks: bool = True


@dataclass(frozen=True, slots=True)
class Recognition:
    """What recognition made of a number: its normal form, readings best first, and problems in words."""

    number: str
    valid: bool
    candidates: list[Candidate] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of the public tracking-number endpoint."""
        return {
            "number": self.number,
            "valid": self.valid,
            "candidates": [
                {"carrier": c.carrier, "format": c.format, "confidence": c.confidence, "detail": c.detail}
                for c in self.candidates
            ],
            "problems": list(self.problems),
        }


@dataclass(frozen=True, slots=True)
class ShapeFormat:
    """A consolidator format without a public checksum: recognised by shape alone."""

    format: str
    name: str
    regex: re.Pattern[str]
    carriers: tuple[tuple[str, float], ...]
    prefix: str = ""
    example: str = ""
    example_source: str = ""


@dataclass(frozen=True, slots=True)
class CheckedFormat:
    """A format with a check digit (S10, Russian Post domestic): its shape, confidences and example."""

    format: str
    name: str
    regex: re.Pattern[str]
    confidence: dict[str, float]
    carriers: str
    example: str
    example_source: str


@dataclass(frozen=True, slots=True)
class NumberFormats:
    """The format table of ``data/number_formats.json``, its patterns compiled."""

    s10: CheckedFormat
    s10_near_miss: re.Pattern[str]
    russian_post: CheckedFormat
    russian_post_carrier: str
    shapes: tuple[ShapeFormat, ...]


def _checked(fmt: str, entry: dict[str, Any]) -> CheckedFormat:
    return CheckedFormat(
        fmt,
        entry["name"],
        re.compile(entry["pattern"]),
        {key: float(value) for key, value in entry["confidence"].items()},
        entry["carriers"],
        entry["example"],
        entry["example_source"],
    )


@lru_cache(maxsize=1)
def number_formats() -> NumberFormats:
    """The formats Silkway recognises, read from ``data/number_formats.json`` once and compiled."""
    data = json.loads(FORMATS_FILE.read_text(encoding="utf-8"))
    checked = data["checked"]
    return NumberFormats(
        s10=_checked("s10", checked["s10"]),
        s10_near_miss=re.compile(checked["s10"]["near_miss"]),
        russian_post=_checked("russian_post_domestic", checked["russian_post_domestic"]),
        russian_post_carrier=checked["russian_post_domestic"]["carrier"],
        shapes=tuple(
            ShapeFormat(
                entry["format"],
                entry["name"],
                re.compile(entry["pattern"]),
                tuple((c["carrier"], float(c["confidence"])) for c in entry["carriers"]),
                entry["prefix"],
                entry["example"],
                entry["example_source"],
            )
            for entry in data["shape_only"]
        ),
    )


@dataclass(frozen=True, slots=True)
class _S10Tables:
    countries: frozenset[str]
    operators: dict[str, str]
    country_carriers: dict[str, str]
    services: tuple[tuple[re.Pattern[str], str, str], ...]


@lru_cache(maxsize=1)
def _s10_tables() -> _S10Tables:
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return _S10Tables(
        countries=frozenset(data["iso_countries"]["codes"]),
        operators={code: entry["carrier"] for code, entry in data["operator_codes"]["codes"].items()},
        country_carriers=dict(data["country_carriers"]["carriers"]),
        services=tuple(
            (re.compile(entry["pattern"]), entry["kind"], entry["meaning"])
            for entry in data["service_indicators"]["classes"]
        ),
    )


def normalize(raw: str) -> str:
    """A number as stored and compared: ``tracking.events.normalize_number``, the one normal form of every
    door (NFKC, Cyrillic look-alikes to Latin, no white space or dashes, upper case; idempotent)."""
    return normalize_number(raw)


def expected_s10_check_digit(serial: str) -> int:
    """The UPU S10 check digit of an 8-digit serial number."""
    if len(serial) != 8 or not serial.isascii() or not serial.isdigit():
        raise ValueError("an S10 serial is exactly 8 digits")
    remainder = sum(int(d) * w for d, w in zip(serial, S10_WEIGHTS, strict=True)) % 11
    check = 11 - remainder
    return {10: 0, 11: 5}.get(check, check)


def expected_rp_check_digit(first13: str) -> int:
    """The check digit of a 14-digit Russian Post domestic number, from its first 13 digits."""
    if len(first13) != 13 or not first13.isascii() or not first13.isdigit():
        raise ValueError("the first part of a Russian Post number is exactly 13 digits")
    odd = sum(int(d) for d in first13[0::2])
    even = sum(int(d) for d in first13[1::2])
    return (10 - (3 * odd + even) % 10) % 10


def _s10_candidates(number: str) -> tuple[list[Candidate], list[str]]:
    formats = number_formats()
    s10 = formats.s10
    match = s10.regex.fullmatch(number)
    if match is None:
        if formats.s10_near_miss.fullmatch(number):
            return [], [
                f"S10 numbers are 13 characters (2 letters, 8 digits, a check digit, 2 letters); "
                f"this one has {len(number)}"
            ]
        return [], []
    service, serial, check, issuer = match["service"], match["serial"], match["check"], match["issuer"]
    tables = _s10_tables()
    confidences = s10.confidence
    problems: list[str] = []
    expected = expected_s10_check_digit(serial)
    if int(check) != expected:
        problems.append(f"check digit should be {expected}, not {check} (UPU S10 rule)")
    if issuer in tables.operators:
        carrier, issuer_word = tables.operators[issuer], f"operator code {issuer}"
        confidence = confidences["operator_code"]
    elif issuer in tables.countries:
        carrier = tables.country_carriers.get(issuer, f"post_{issuer.lower()}")
        issuer_word, confidence = f"issued in {issuer}", confidences["country"]
    else:
        problems.append(f"{issuer} is neither an ISO 3166 country code nor a known operator code")
        return [], problems
    kind, meaning = next(((k, m) for rx, k, m in tables.services if rx.fullmatch(service)), ("", ""))
    if kind == "domestic":
        confidence -= confidences["domestic_service_penalty"]
    elif not kind:
        confidence = confidences["unassigned_service"]
        meaning = f"service indicator {service} is outside the UPU-assigned ranges"
    detail = f"UPU S10, {meaning}, {issuer_word}"
    if problems:
        low, why = confidences["failed_check"], f"{detail}; {problems[0]}"
        return [Candidate(carrier, s10.format, low, why, passes_checks=False)], problems
    return [Candidate(carrier, s10.format, confidence, detail)], []


def _russian_post_candidates(number: str) -> tuple[list[Candidate], list[str]]:
    formats = number_formats()
    rp = formats.russian_post
    match = rp.regex.fullmatch(number)
    if match is None:
        return [], []
    expected = expected_rp_check_digit(number[:13])
    detail = (
        f"Russian Post domestic: accepted at postcode {match['postcode']}, batch {match['batch']}, "
        f"item {match['item']}"
    )
    carrier = formats.russian_post_carrier
    if int(match["check"]) != expected:
        problem = f"check digit should be {expected}, not {match['check']} (Russian Post domestic rule)"
        failed = Candidate(carrier, rp.format, rp.confidence["failed_check"], f"{detail}; {problem}", False)
        return [failed], [problem]
    return [Candidate(carrier, rp.format, rp.confidence["passes_checks"], detail)], []


def _pattern_candidates(number: str) -> list[Candidate]:
    found: list[Candidate] = []
    for pattern in number_formats().shapes:
        if pattern.regex.fullmatch(number):
            found.extend(
                Candidate(carrier, pattern.format, confidence, f"{pattern.name}; no public checksum")
                for carrier, confidence in pattern.carriers
            )
    return found


def _shape_hints(number: str) -> list[str]:
    """Plain-words reasons a number that matched nothing is not any known format."""
    for pattern in number_formats().shapes:
        if pattern.prefix and number.startswith(pattern.prefix) and number[len(pattern.prefix) :].isdigit():
            return [
                f"does not fit the {pattern.name}: this one has {len(number) - len(pattern.prefix)} "
                "characters after the prefix"
            ]
    if number.isdigit():
        return [
            f"a number of {len(number)} digits fits no known format "
            "(Russian Post domestic numbers are 14 digits, CDEK 10, Cainiao 23)"
        ]
    return ["does not match any known tracking-number format"]


def recognize(raw: str) -> Recognition:
    """Rank the carriers and formats a number could belong to and explain what is wrong with it."""
    number = normalize(raw)
    if not number:
        return Recognition(number, False, [], ["the number is empty"])
    if len(number) > LONGEST_FORMAT:
        too_long = f"{len(number)} characters is longer than any known format ({LONGEST_FORMAT})"
        return Recognition(number, False, [], [too_long])
    if not _ALNUM.fullmatch(number):
        odd = next(ch for ch in number if not ("A" <= ch <= "Z" or "0" <= ch <= "9"))
        return Recognition(
            number, False, [], [f"tracking numbers use only Latin letters and digits, not {odd!r}"]
        )
    candidates: list[Candidate] = []
    problems: list[str] = []
    for found, trouble in (_s10_candidates(number), _russian_post_candidates(number)):
        candidates.extend(found)
        problems.extend(trouble)
    candidates.extend(_pattern_candidates(number))
    candidates.sort(key=lambda c: (-c.confidence, c.format, c.carrier))
    if not candidates and not problems:
        problems = _shape_hints(number)
    return Recognition(number, any(c.passes_checks for c in candidates), candidates, problems)


@dataclass(frozen=True, slots=True)
class OriginReading:
    """Where a number says its item was posted: a rule of ``origins`` in data/number_formats.json."""

    format: str
    origin_country: str
    carrier: str
    service: str
    services: tuple[str, ...]


@lru_cache(maxsize=1)
def _origin_rules() -> tuple[tuple[re.Pattern[str], OriginReading], ...]:
    data = json.loads(FORMATS_FILE.read_text(encoding="utf-8"))
    return tuple(
        (
            re.compile(rule["pattern"]),
            OriginReading(rule["format"], rule["origin_country"], rule["carrier"], rule["service"],
                          tuple(rule.get("services", ()))),
        )
        for rule in data.get("origins", {}).get("rules", ())
    )


def origin_of(raw: str) -> OriginReading | None:
    """The country an S10 number says its item was posted in (Russian-origin items: ``…RU``, EMS ``E…RU``),
    when a rule fits and the check digit passes; None otherwise."""
    number = normalize(raw)
    found = next((reading for rx, reading in _origin_rules() if rx.fullmatch(number)), None)
    if found is None or expected_s10_check_digit(number[2:10]) != int(number[10]):
        return None
    return found


def format_examples() -> list[dict[str, str]]:
    """The formats Silkway recognises, each with an example number, for the unknown-number help page."""
    formats = number_formats()
    examples = [
        {
            "format": checked.format,
            "name": checked.name,
            "carriers": checked.carriers,
            "example": checked.example,
            "example_source": checked.example_source,
        }
        for checked in (formats.s10, formats.russian_post)
    ]
    for pattern in formats.shapes:
        examples.append(
            {
                "format": pattern.format,
                "name": pattern.name,
                "carriers": ", ".join(carrier for carrier, _ in pattern.carriers),
                "example": pattern.example,
                "example_source": pattern.example_source,
            }
        )
    return examples
