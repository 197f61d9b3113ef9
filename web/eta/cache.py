"""The lookups' per-process cache of ETA answers: a bounded, thread-safe LRU whose entries expire."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from routing.eta import EtaAnswer
from routing.tracks import ParcelTrack

CACHE_SIZE = 2048

# Parcel id, model version and the track itself: hashed on the way in, compared field by field on a hit,
# so a kept answer is only ever served for exactly the same scans.
CacheKey = tuple[int, str, ParcelTrack]


class EtaCache:
    """A bounded, thread-safe LRU of lookup ETAs whose entries expire ``seconds`` after they were stored."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._entries: OrderedDict[CacheKey, tuple[float, EtaAnswer | None]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: CacheKey, seconds: float) -> tuple[bool, EtaAnswer | None]:
        """(True, the kept answer) when ``key`` was stored less than ``seconds`` ago, else (False, None)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return False, None
            if time.monotonic() - entry[0] >= seconds:
                del self._entries[key]
                return False, None
            self._entries.move_to_end(key)
            return True, entry[1]

    def put(self, key: CacheKey, value: EtaAnswer | None) -> None:
        """Keep ``value`` (None too: a parcel the network cannot place), evicting the least recently used."""
        with self._lock:
            self._entries[key] = (time.monotonic(), value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget everything (tests)."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


lookup_cache = EtaCache()
