"""Where a parcel is in its journey, by its scans: the three checkpoints of the backtest and calibration.

``first_scan`` (any scan), ``after_export`` (a scan outside China), ``after_import`` (a departure from a
Russian place, or customs clearance: the parcel cleared import).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from routing.tracks import ParcelTrack, TrackScan, aware

CHECKPOINTS = ("first_scan", "after_export", "after_import")
CHINA = frozenset({"CN", "HK"})

REACHED: dict[str, Callable[[TrackScan], bool]] = {
    "first_scan": lambda s: True,
    "after_export": lambda s: s.country is not None and s.country not in CHINA,
    "after_import": lambda s: s.country == "RU" and (s.is_departure or s.substatus == "customs_cleared"),
}


def checkpoint_time(track: ParcelTrack, checkpoint: str, delivered_at: datetime) -> datetime | None:
    """When a checkpoint was reached: the first scan, the first scan outside China, the first departure
    from a Russian place (the parcel cleared import); None if not reached before delivery."""
    scans = [s for s in track.scans_until(delivered_at) if not s.is_delivered and aware(s.at) < delivered_at]
    found = next((s for s in scans if REACHED[checkpoint](s)), None)
    return aware(found.at) if found else None


def checkpoint_at(track: ParcelTrack, as_of: datetime) -> str | None:
    """The latest checkpoint the parcel had reached by ``as_of`` (None: not scanned yet)."""
    scans = track.scans_until(as_of)
    reached = [c for c in CHECKPOINTS if any(REACHED[c](s) for s in scans)]
    return reached[-1] if reached else None
