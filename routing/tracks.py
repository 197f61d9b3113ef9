"""What the routing package knows of a parcel: its scans at places, as plain data from the tracking layer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise

# Scan substatuses that mean the parcel has left the place of the scan.
DEPARTURE_SUBSTATUSES = frozenset({"departed", "line_haul", "forwarded"})


@dataclass(frozen=True, slots=True)
class TrackScan:
    """One scan: where (a network node id, if resolved), the country, the canonical status and when."""

    place_id: str | None
    country: str | None
    status: str
    substatus: str
    at: datetime
    # The tracking number the scan was reported under, when known (it tells which numbers Silkway had
    # seen by a given time, so a backtest does not read a last-mile number before it was handed out).
    number: str | None = None

    @property
    def is_delivered(self) -> bool:
        """True for the delivery scan."""
        return self.status == "delivered"

    @property
    def is_departure(self) -> bool:
        """True when the scan says the parcel left its place."""
        return self.status == "in_transit" and self.substatus in DEPARTURE_SUBSTATUSES


@dataclass(frozen=True, slots=True)
class ParcelTrack:
    """A parcel as the ETA engine sees it; service, origin and destination are None when not registered."""

    numbers: tuple[str, ...]
    service: str | None
    origin: str | None
    destination: str | None
    scans: Sequence[TrackScan] = field(default_factory=tuple)

    def scans_until(self, as_of: datetime) -> list[TrackScan]:
        """The scans that had happened by ``as_of``, oldest first."""
        limit = aware(as_of)
        times = [aware(s.at) for s in self.scans]
        kept = [(at, s) for s, at in zip(self.scans, times, strict=True) if at <= limit]
        if not all(a <= b for a, b in pairwise(times)):  # stored scans come oldest first: no sort then
            kept.sort(key=lambda pair: pair[0])  # stable, like sorting the scans by time
        return [s for _, s in kept]

    def numbers_until(self, as_of: datetime) -> tuple[str, ...]:
        """The numbers known by ``as_of``: those its scans by then came under, and those no scan came
        under (registered by a merchant or linked by a carrier). All of them when scans name none."""
        scanned = {s.number for s in self.scans if s.number}
        if not scanned:
            return self.numbers
        limit = aware(as_of)
        seen = {s.number for s in self.scans if s.number and aware(s.at) <= limit}
        return tuple(n for n in self.numbers if n in seen or n not in scanned)


@dataclass(frozen=True, slots=True)
class Stay:
    """A run of consecutive scans at one place: when the first and the last were made."""

    place: str
    first: datetime
    last: datetime
    left: bool
    delivered: bool


def stays(scans: Sequence[TrackScan]) -> list[Stay]:
    """Group time-ordered scans at known places into consecutive stays."""
    out: list[Stay] = []
    for scan in scans:
        if scan.place_id is None:
            continue
        at = aware(scan.at)
        if out and out[-1].place == scan.place_id:
            prev = out[-1]
            out[-1] = Stay(prev.place, prev.first, at, scan.is_departure, prev.delivered or scan.is_delivered)
        else:
            out.append(Stay(scan.place_id, at, at, scan.is_departure, scan.is_delivered))
    return out


def aware(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime (naive values are taken as UTC)."""
    zone = moment.tzinfo
    if zone is UTC:  # the usual case, and the hot path of inference: nothing to convert
        return moment
    return moment.replace(tzinfo=UTC) if zone is None else moment.astimezone(UTC)
