"""The one interface every carrier format implements: raw bytes in, canonical events out."""

from __future__ import annotations

from typing import Protocol

from tracking.events import ParseResult


class Adapter(Protocol):
    """A carrier feed format. ``parse`` never raises for bad items; it raises PayloadError only when
    the payload as a whole is unreadable."""

    @property
    def name(self) -> str:
        """The format's name, as used in ``ADAPTERS`` and ``silkway keys create --format``."""
        ...

    @property
    def content_types(self) -> tuple[str, ...]:
        """The media types this format arrives in; the first is the usual one."""
        ...

    def parse(self, raw: bytes, content_type: str, carrier: str) -> ParseResult:
        """Turn a raw payload into canonical events plus per-item errors."""
        ...
