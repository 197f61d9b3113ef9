"""The one interface every carrier format implements: raw bytes in, canonical events out; and how
an adapter says that one item of a payload cannot be used."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from tracking.events import ParseResult, ScanEvent

# Makes the event of one payload item and gives its raw code when the code table lacks it.
ReadEvent = Callable[[], tuple[ScanEvent, str | None]]


class ItemInvalid(ValueError):
    """One item of a payload (or one scan inside an item) cannot be used; ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def add_or_reject(result: ParseResult, index: int, read: ReadEvent, label: str = "", path: str = "") -> None:
    """Add the event ``read()`` makes for payload item ``index``, counting an unmapped code; reject the
    item if ``read`` raises ItemInvalid, for a part of the item as "<label>: <error>" at "<path>.<field>"."""
    try:
        event, unmapped = read()
    except ItemInvalid as exc:
        if label:
            result.reject(index, f"{label}: {exc}", f"{path}.{exc.field}")
        else:
            result.reject(index, str(exc), exc.field)
        return
    result.add(event, index)
    if unmapped:
        result.note_unmapped(unmapped)


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
