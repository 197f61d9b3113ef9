"""Where the route map writes its place labels: beside their points, inside the frame, never on each other.

A label's box is estimated from its text (system fonts: Latin and Cyrillic letters about 0.58 of the font
size wide, Chinese characters a full em), which is what a browser draws within a few per cent; the
browser test measures the drawn boxes. Each label tries the places around its point in turn (above,
below, right, left, then further out) and takes the first one inside the frame that overlaps no label
already placed and no marker; when none is free it takes the one that overlaps least.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

FONT = 16.0  # at the full map's zoom; multiplied by the view's zoom
GAP = 12.0  # between a point and its label
PAD = 4.0  # kept free around each box (the white halo of the text)


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle in map units: left, top, right, bottom."""

    left: float
    top: float
    right: float
    bottom: float

    def overlap(self, other: Box) -> float:
        """The area this box shares with ``other``."""
        w = min(self.right, other.right) - max(self.left, other.left)
        h = min(self.bottom, other.bottom) - max(self.top, other.top)
        return w * h if w > 0 and h > 0 else 0.0

    def inside(self, frame: Box) -> bool:
        """True when the whole box lies within ``frame``."""
        return (
            self.left >= frame.left
            and self.top >= frame.top
            and self.right <= frame.right
            and self.bottom <= frame.bottom
        )


@dataclass(frozen=True, slots=True)
class Placed:
    """A label placed: the text's anchor point, its SVG text-anchor and the box it covers."""

    x: float
    y: float
    anchor: str
    box: Box


def text_width(text: str, size: float) -> float:
    """The drawn width of ``text`` at font ``size``: wide (CJK) characters a full em, others about 0.58."""
    wide = sum(1 for ch in text if unicodedata.east_asian_width(ch) in ("W", "F"))
    return (wide + 0.58 * (len(text) - wide)) * size


def _candidates(x: float, y: float, w: float, size: float, k: float) -> list[tuple[float, float, str]]:
    """Anchor points around (x, y) for a label ``w`` wide: (x, baseline y, text-anchor)."""
    gap = GAP * k
    out: list[tuple[float, float, str]] = []
    for far in (1.0, 2.2, 3.6):
        up, down, side = y - gap * far, y + gap * far + size * 0.8, y + size * 0.35
        out += [
            (x, up, "middle"),
            (x, down, "middle"),
            (x + gap * far, side, "start"),
            (x - gap * far, side, "end"),
            (x + gap * far, up, "start"),
            (x - gap * far, up, "end"),
            (x + gap * far, down, "start"),
            (x - gap * far, down, "end"),
        ]
    return out


def _box(x: float, y: float, anchor: str, w: float, size: float, pad: float) -> Box:
    left = x - w / 2 if anchor == "middle" else x if anchor == "start" else x - w
    return Box(left - pad, y - size * 0.8 - pad, left + w + pad, y + size * 0.25 + pad)


def place_labels(
    points: Sequence[tuple[float, float, str]],
    frame: Box,
    k: float,
    markers: Sequence[Box] = (),
) -> list[Placed]:
    """A place for each label (x, y, text) in order of importance, inside ``frame`` and apart."""
    size = FONT * k
    taken: list[Box] = list(markers)
    placed: list[Placed] = []
    for x, y, text in points:
        w = text_width(text, size)
        best: tuple[float, Placed] | None = None
        for cx, cy, anchor in _candidates(x, y, w, size, k):
            box = _box(cx, cy, anchor, w, size, PAD * k)
            cost = sum(box.overlap(other) for other in taken)
            if not box.inside(frame):
                cost += 1e9 - _inner_area(box, frame)  # outside the frame only when nothing else fits
            if best is None or cost < best[0]:
                best = (cost, Placed(cx, cy, anchor, box))
            if cost == 0:
                break
        assert best is not None
        placed.append(best[1])
        taken.append(best[1].box)
    return placed


def _inner_area(box: Box, frame: Box) -> float:
    return box.overlap(frame)
