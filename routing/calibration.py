"""Split-conformal calibration of the [p10, p90] window, per checkpoint, over a recent window.

The learned model's windows are as wide as its curves say, which is right only on average: on a corridor
it was not tuned to they may hold 70 % or 90 % of arrivals. Conformalized quantile regression (Romano,
Patterson and Candès, 2019) widens or narrows them by what they missed on parcels they had not seen:

* one parcel in ``HOLD_OUT`` (by a hash of its first number, so the same ones each time) is held out, and
  a model learned as of the same moment from the others predicts each held-out parcel at each checkpoint
  (``routing.checkpoints``) it reached in that checkpoint's recent window (``WINDOWS``: 30 days ending 30,
  20 and 10 days before the moment, so that nearly all have arrived since) and that arrived by then;
* each gets the score ``max(p10 − arrival, arrival − p90)`` in hours, and per checkpoint, with n scores,
  the correction is the ⌈(n + 1) · 0.8⌉-th smallest: an answer at that checkpoint then gives
  [p10 − correction, p90 + correction] (a negative correction narrows it), never before ``as_of`` nor
  across p50. Fewer than ``MIN_PARCELS`` scores: no correction. The model itself learns from every parcel.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from routing.checkpoints import CHECKPOINTS, checkpoint_time
from routing.errors import RoutingError
from routing.remaining import arrival_time
from routing.tracks import ParcelTrack, aware

if TYPE_CHECKING:  # routing.eta applies the corrections: no import cycle at run time
    from routing.eta import EtaEstimate

COVERAGE = 0.8  # the window's promised share of arrivals (p10 to p90)
# Per checkpoint: the calibration window's length and how long before the model's moment it ends (days).
WINDOWS = {"first_scan": (30.0, 30.0), "after_export": (30.0, 20.0), "after_import": (30.0, 10.0)}
MIN_PARCELS = 50
HOLD_OUT = 5  # one parcel in five is held out of the calibration's model

def conformal_correction(scores: Sequence[float], coverage: float = COVERAGE) -> float | None:
    """The split-conformal correction of a set of scores (None for fewer than MIN_PARCELS)."""
    if len(scores) < MIN_PARCELS:
        return None
    rank = min(math.ceil((len(scores) + 1) * coverage), len(scores))
    return float(sorted(scores)[rank - 1])


def calibration_window(checkpoint: str, as_of: datetime) -> tuple[datetime, datetime]:
    """When the calibration parcels of a model learned at ``as_of`` reached ``checkpoint``: [start, end)."""
    days, settle = WINDOWS[checkpoint]
    end = aware(as_of) - timedelta(days=settle)
    return end - timedelta(days=days), end


def held_out(track: ParcelTrack) -> bool:
    """Whether a parcel is one of those held out of the calibration's model (by its first number)."""
    return bool(track.numbers) and zlib.crc32(track.numbers[0].encode()) % HOLD_OUT == 0


def fit_calibration(
    tracks: Sequence[ParcelTrack], as_of: datetime, predict: Callable[[ParcelTrack, datetime], EtaEstimate]
) -> dict[str, float]:
    """The correction in hours per checkpoint from the parcels ``tracks`` (held out of ``predict``'s model)
    that reached it in its calibration window and arrived by ``as_of``, as ``predict`` told them then."""
    windows = {c: calibration_window(c, as_of) for c in CHECKPOINTS}
    scores: dict[str, list[float]] = {c: [] for c in CHECKPOINTS}
    for track in tracks:
        arrival = arrival_time(track, as_of)
        if arrival is None:
            continue
        for checkpoint in CHECKPOINTS:
            reached = checkpoint_time(track, checkpoint, arrival)
            start, end = windows[checkpoint]
            if reached is None or not start <= reached < end:
                continue
            try:
                guess = predict(track, reached)
            except RoutingError:
                continue
            missed = max((guess.p10 - arrival).total_seconds(), (arrival - guess.p90).total_seconds())
            scores[checkpoint].append(missed / 3600)
    found = {c: conformal_correction(s) for c, s in scores.items()}
    return {c: round(q, 3) for c, q in found.items() if q is not None}


def calibrated(
    p10: datetime, p50: datetime, p90: datetime, as_of: datetime, correction: float
) -> tuple[datetime, datetime]:
    """[p10, p90] widened by ``correction`` hours on each side (narrowed when negative), kept at or after
    ``as_of`` and on either side of p50."""
    shift = timedelta(hours=correction)
    low = min(max(p10 - shift, aware(as_of)), p50)
    high = max(p90 + shift, p50)
    return low, high


def corrections_text(corrections: Mapping[str, float]) -> str:
    """The corrections as the CLI prints them: ``first_scan −31.2 h, after_export +5.0 h``."""
    return ", ".join(f"{c} {q:+.1f} h" for c, q in corrections.items())
