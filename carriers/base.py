"""The one interface every carrier format implements: raw bytes in, canonical events out."""

from __future__ import annotations

from typing import Protocol

from tracking.events import ParseResult


class Adapter(Protocol):
    """A carrier feed format. ``parse`` never raises for bad items; it raises PayloadError only when
    the payload as a whole is unreadable."""

    name: str
    content_types: tuple[str, ...]

    def parse(self, raw: bytes, content_type: str, carrier: str) -> ParseResult:
        """Turn a raw payload into canonical events plus per-item errors."""
        ...
