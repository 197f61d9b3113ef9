"""One tracking, a list of scans: the shape most JSON carrier answers share.

A tracking object holds a number and an array of scans (AfterShip ``checkpoints``, EasyPost
``tracking_details``, SF Express ``routes``, Yanwen ``checkpoints``, Cainiao ``detailList``). An answer
is one tracking, whose scans are each a payload item (``parse_tracking``), or a list of trackings,
each one payload item with its scans' errors reported inside it (``parse_trackings``). A tracking
without scans is only acknowledged (``result.ignored``). The adapter keeps what is its own: where the
trackings are in the answer, and how one scan becomes a ``ScanEvent``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from carriers.jsonfeed import ItemInvalid, tracking_number
from tracking.events import ParseResult, PayloadError, ScanEvent

# Makes the event of one scan and says whether the carrier's code was in its table.
ScanReader = Callable[[Any], tuple[ScanEvent, bool]]
# Given one tracking object and its (valid) number, the reader of that tracking's scans.
ReaderFor = Callable[[dict[str, Any], str], ScanReader]


@dataclass(frozen=True, slots=True)
class TrackingShape:
    """Where a carrier's tracking object keeps its number and its scans, and what the answer calls it."""

    number: str
    scans: str
    noun: str = "tracking"


def parse_tracking(
    tracking: dict[str, Any] | None, shape: TrackingShape, reader_for: ReaderFor
) -> ParseResult:
    """An answer that is one tracking (None: an event that carries none): one payload item per scan.

    A tracking number or scans array that cannot be used refuses the whole payload (PayloadError).
    """
    result = ParseResult()
    if tracking is None:
        result.ignored += 1
        return result
    try:
        number, scans = _number_and_scans(tracking, shape)
    except ItemInvalid as exc:
        raise PayloadError(str(exc)) from None
    _add_scans(result, scans, reader_for(tracking, number))
    return result


def parse_trackings(trackings: list[Any], shape: TrackingShape, reader_for: ReaderFor) -> ParseResult:
    """An answer that lists trackings: one payload item per tracking, a bad scan rejected inside it."""
    result = ParseResult()
    for index, tracking in enumerate(trackings):
        try:
            number, scans = _number_and_scans(tracking, shape)
        except ItemInvalid as exc:
            result.reject(index, str(exc), exc.field or None)
            continue
        _add_scans(result, scans, reader_for(tracking, number), index, shape.scans)
    return result


def _number_and_scans(tracking: Any, shape: TrackingShape) -> tuple[str, list[Any]]:
    if not isinstance(tracking, dict):
        raise ItemInvalid("", f"each {shape.noun} must be a JSON object")
    number = tracking_number(tracking.get(shape.number), shape.number)
    scans = tracking.get(shape.scans)
    if scans is None:
        return number, []
    if not isinstance(scans, list):
        raise ItemInvalid(shape.scans, f"{shape.scans} must be an array")
    return number, scans


def _add_scans(
    result: ParseResult, scans: list[Any], read: ScanReader, item: int | None = None, field: str = ""
) -> None:
    """Each scan is its own payload item, unless ``item`` names the one they all belong to."""
    if not scans:
        result.ignored += 1
        return
    for position, scan in enumerate(scans):
        index = position if item is None else item
        try:
            event, known = read(scan)
        except ItemInvalid as exc:
            if item is None:
                result.reject(index, str(exc), exc.field or None)
            else:
                where = f"{field}[{position}]"
                result.reject(index, f"{where}: {exc}", f"{where}.{exc.field}" if exc.field else where)
            continue
        result.add(event, index)
        if not known and event.raw_code:
            result.note_unmapped(event.raw_code)
