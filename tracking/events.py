"""Canonical scan events: the plain data that every carrier adapter produces and ingestion stores."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tracking.statuses import Status


@dataclass(frozen=True, slots=True)
class Location:
    """Where a scan happened, as the carrier said it; place_id names a node of the network if known."""

    name: str | None = None
    country: str | None = None
    postcode: str | None = None
    lat: float | None = None
    lon: float | None = None
    place_id: str | None = None

    def key(self) -> str:
        """A stable identity for deduplicating locations: place id (+ postcode), else country, postcode, name.

        Two spellings of one place ("Москва", "Moscow") resolve to the same place id and so the same key;
        two offices of one city stay apart by their postcodes.
        """
        if self.place_id:
            return f"place:{self.place_id}|{self.postcode or ''}"
        name = normalize_text(self.name or "")
        return f"{(self.country or '').upper()}|{self.postcode or ''}|{name}"

    def is_empty(self) -> bool:
        """True when the carrier said nothing about where the scan happened."""
        return not (self.name or self.country or self.postcode or self.place_id)


@dataclass(frozen=True, slots=True)
class ScanEvent:
    """One carrier scan in canonical form; occurred_at is timezone-aware and keeps its original offset."""

    tracking_number: str
    status: Status
    substatus: str
    occurred_at: datetime
    carrier: str
    location: Location = field(default_factory=Location)
    description: str = ""
    raw_code: str | None = None
    # Other numbers the carrier says belong to the same parcel (a hand-over to the next leg).
    linked_numbers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.occurred_at.tzinfo is None or self.occurred_at.utcoffset() is None:
            raise ValueError("occurred_at must carry a UTC offset")

    @property
    def occurred_at_utc(self) -> datetime:
        """The instant in UTC."""
        return self.occurred_at.astimezone(UTC)

    @property
    def utc_offset_minutes(self) -> int:
        """The offset the carrier reported the local time in, in minutes east of UTC."""
        offset = self.occurred_at.utcoffset()
        assert offset is not None
        return int(offset.total_seconds() // 60)

    def fingerprint(self, location: Location | None = None) -> str:
        """The event's identity within a parcel: what happened, when (to the minute) and where.

        The wording (description) and the raw code are left out on purpose: a carrier that re-sends
        the same scan with a reworded text, or an aggregator relaying it, must not create a second
        event. Seconds are dropped because feeds round differently (Cainiao keeps seconds, Russian
        Post's batch API does not). ``location``, when given, stands for the event's location as
        resolved to a network place.
        """
        instant = self.occurred_at_utc.strftime("%Y-%m-%dT%H:%M")
        where = (location or self.location).key()
        text = f"{self.status.value}/{self.substatus}|{instant}|{where}"
        return hashlib.blake2b(text.encode("utf-8"), digest_size=10).hexdigest()


@dataclass(frozen=True, slots=True)
class ItemError:
    """Why one item of a payload was rejected; index is its position in the payload."""

    index: int
    error: str
    field: str | None = None

    def as_dict(self) -> dict[str, object]:
        """The JSON shape used in API answers."""
        out: dict[str, object] = {"index": self.index, "error": self.error}
        if self.field:
            out["field"] = self.field
        return out


@dataclass(frozen=True, slots=True)
class ItemNotice:
    """A payload item the carrier answered for without events: its answer, not bad input.

    E.g. a Russian Post batch item with ``Error ErrorTypeID="12"`` (no data for that number). It is
    acknowledged (counted as ignored) and reported, and never rejects the batch.
    """

    index: int
    tracking_number: str | None
    code: str
    reason: str

    def as_dict(self) -> dict[str, object]:
        """The JSON shape used in API answers."""
        return {
            "index": self.index,
            "tracking_number": self.tracking_number,
            "code": self.code,
            "reason": self.reason,
        }


@dataclass(slots=True)
class ParseResult:
    """What an adapter made of a payload: canonical events, and errors for the items it could not use.

    ``indexes`` gives, for each event, the payload item it came from, so that errors found later
    (at ingestion) can point at the right item. ``unmapped`` counts raw codes the adapter had no
    mapping for (they still produce events with a generic status). ``notices`` name the items the
    carrier answered for without events (each also counted in ``ignored``).
    """

    events: list[ScanEvent] = field(default_factory=list)
    errors: list[ItemError] = field(default_factory=list)
    indexes: list[int] = field(default_factory=list)
    unmapped: dict[str, int] = field(default_factory=dict)
    ignored: int = 0
    notices: list[ItemNotice] = field(default_factory=list)

    def add(self, event: ScanEvent, index: int) -> None:
        """Record one event parsed from payload item ``index``."""
        self.events.append(event)
        self.indexes.append(index)

    def reject(self, index: int, error: str, field_name: str | None = None) -> None:
        """Record that payload item ``index`` could not be used."""
        self.errors.append(ItemError(index, error, field_name))

    def notice(self, index: int, tracking_number: str | None, code: str, reason: str) -> None:
        """Record that the carrier answered for payload item ``index`` without events; it is ignored."""
        self.notices.append(ItemNotice(index, tracking_number, code, reason))
        self.ignored += 1

    def note_unmapped(self, code: str) -> None:
        """Count a raw carrier code that has no mapping yet."""
        self.unmapped[code] = self.unmapped.get(code, 0) + 1


class PayloadError(ValueError):
    """The payload as a whole cannot be read (not JSON, not XML, wrong shape)."""


def normalize_text(text: str) -> str:
    """Casefold, strip accents' composition differences and collapse white space."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


# Cyrillic letters drawn like Latin ones: a number typed with a Russian keyboard layout, or copied from a
# Russian carrier's page, may spell RX747628194CN as "RХ747628194СN" (Cyrillic Х and С). Each maps to the
# Latin letter it looks like, lower case to the same capital (numbers are stored upper case): by shape,
# so Р (Er) is P. See docs/tracking-numbers.md.
CYRILLIC_LOOKALIKES = dict(zip("АВЕКМНОРСТУХавекмнорстух", "ABEKMHOPCTYX" * 2, strict=True))
# Dashes people and spreadsheets put inside numbers; white space is removed separately.
NUMBER_DASHES = "-‐‑‒–—―−_"
_NUMBER_TABLE = str.maketrans({**CYRILLIC_LOOKALIKES, **dict.fromkeys(NUMBER_DASHES)})
# What the table and white-space removal do to ASCII text (str.isspace is true for \x1c-\x1f too).
_ASCII_DROP = str.maketrans("", "", " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f-_")
MIN_NUMBER, MAX_NUMBER = 5, 40


def _number_step(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_NUMBER_TABLE)
    return "".join(text.split()).upper()


def normalize_number(number: str) -> str:
    """A tracking number as stored and compared, the one normal form of every door.

    NFKC (full-width ``ＲＸ７４７`` → ``RX747``), then Cyrillic look-alikes to Latin (``ХС`` → ``XC``),
    then every white-space character and dash removed and upper case; repeated until nothing changes,
    so that it is idempotent even on odd Unicode (a removed space letting a combining mark compose, a
    capital that decomposes). ASCII text, nearly every number, takes a short path with the same result.
    """
    if number.isascii():
        return number.translate(_ASCII_DROP).upper()
    text = number
    for _ in range(len(number) + 3):
        nxt = _number_step(text)
        if nxt == text:
            break
        text = nxt
    return text


def well_formed_number(number: str) -> bool:
    """True when a normalized number can be stored: 5 to 40 Latin letters and digits."""
    return MIN_NUMBER <= len(number) <= MAX_NUMBER and number.isascii() and number.isalnum()


def as_utc(moment: datetime) -> datetime:
    """Return ``moment`` in UTC, treating a naive datetime as already UTC (how SQLite returns it)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
