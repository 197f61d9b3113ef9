"""The HTTP client of the pull jobs: per-carrier token buckets, retries with backoff, Retry-After.

Every request waits for a token of its carrier's bucket (PULL_RATE_PER_SECOND, PULL_RATE_BURST, or
PULL_RATE_LIMITS = {"carrier": [per_second, burst]}); 5xx answers, timeouts and dropped connections are
retried PULL_RETRIES times with exponential backoff and full jitter; a 429 is not retried here but
raised as RetryLater with its Retry-After, so the feed is postponed instead of hammering the carrier.
Parsing is not done here.
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.client import HTTPException
from typing import Any

from tracking.types import utcnow

DEFAULTS: dict[str, Any] = {
    "PULL_TIMEOUT_SECONDS": 20.0,
    "PULL_RETRIES": 3,
    "PULL_BACKOFF_BASE_SECONDS": 1.0,
    "PULL_BACKOFF_CAP_SECONDS": 30.0,
    "PULL_FAILURE_BACKOFF_BASE_SECONDS": 60.0,
    "PULL_FAILURE_BACKOFF_CAP_SECONDS": 3600.0,
    "PULL_FEED_INTERVAL_SECONDS": 300.0,
    "PULL_MAX_PAGES": 20,
    "PULL_RATE_PER_SECOND": 2.0,
    "PULL_RATE_BURST": 5,
    "PULL_RATE_LIMITS": {},
    "PULL_MAX_RESPONSE_BYTES": 16 * 1024 * 1024,
    "RUSSIAN_POST_LOGIN": None,
    "RUSSIAN_POST_PASSWORD": None,
    "RUSSIAN_POST_TICKET_DELAY_SECONDS": 900.0,
    "RUSSIAN_POST_TICKET_RETRY_SECONDS": 900.0,
    "RUSSIAN_POST_SUBMIT_INTERVAL_SECONDS": 4 * 3600.0,
    "RUSSIAN_POST_TICKET_MAX_ATTEMPTS": 12,
    "RUSSIAN_POST_NUMBER_MAX_AGE_DAYS": 90,
}


@dataclass(frozen=True, slots=True)
class PullSettings:
    """The pull configuration, read from the app's config (SILKWAY_* environment variables)."""

    values: Mapping[str, Any]

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> PullSettings:
        """Defaults overlaid with whatever the app's config sets."""
        return cls(
            {key: config.get(key, default) for key, default in DEFAULTS.items()}
            | {"MAX_BATCH_EVENTS": config.get("MAX_BATCH_EVENTS", 5000)}
        )

    def number(self, key: str) -> float:
        """A numeric setting."""
        return float(self.values[key])

    def rate(self, carrier: str) -> tuple[float, float]:
        """The token bucket (tokens per second, burst) for a carrier."""
        special = dict(self.values["PULL_RATE_LIMITS"] or {}).get(carrier)
        if special:
            return float(special[0]), float(special[1])
        return self.number("PULL_RATE_PER_SECOND"), self.number("PULL_RATE_BURST")


class TokenBucket:
    """A token bucket: ``rate`` requests per second on average, ``burst`` at once."""

    def __init__(
        self,
        rate: float,
        burst: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate, self.burst = max(rate, 1e-6), max(burst, 1.0)
        self.tokens, self.clock, self.sleep = self.burst, clock, sleep
        self.stamp = clock()
        self.lock = threading.Lock()

    def acquire(self) -> None:
        """Take one token, waiting until there is one."""
        with self.lock:
            now = self.clock()
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            self.tokens -= 1
            wait = -self.tokens / self.rate if self.tokens < 0 else 0.0
        if wait > 0:
            self.sleep(wait)


class RetryLater(Exception):
    """The carrier answered 429: ask again no sooner than ``seconds`` from now."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"rate limited by the carrier (429); retry after {seconds:g} s")
        self.seconds = seconds


class FetchFailed(Exception):
    """The request failed for good (after retries, or with a 4xx that retrying cannot fix); ``status`` and
    ``body`` are the answer's when there was one (a service's error document)."""

    def __init__(self, message: str, status: int | None = None, body: bytes = b"") -> None:
        super().__init__(message)
        self.status, self.body = status, body


class FeedClient:
    """Makes the HTTP requests of the pull jobs: rate limits, retries, backoff, Retry-After."""

    def __init__(
        self,
        settings: PullSettings,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self.settings, self.sleep, self.rand = settings, sleep, rand
        self.buckets: dict[str, TokenBucket] = {}
        self.opener = urllib.request.build_opener()

    def bucket(self, carrier: str) -> TokenBucket:
        """The carrier's token bucket (one per process: one scheduler is active per database)."""
        if carrier not in self.buckets:
            self.buckets[carrier] = TokenBucket(*self.settings.rate(carrier), sleep=self.sleep)
        return self.buckets[carrier]

    def fetch(
        self,
        carrier: str,
        url: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        method: str | None = None,
    ) -> bytes:
        """GET (or POST when ``body`` is given, or ``method``) ``url``; the answer's body, or RetryLater /
        FetchFailed."""
        retries = int(self.settings.number("PULL_RETRIES"))
        for attempt in range(retries + 1):
            self.bucket(carrier).acquire()
            try:
                return self._once(url, body, headers or {}, method)
            except _Transient as exc:
                if attempt == retries:
                    raise FetchFailed(f"{exc} (after {retries + 1} attempts)") from None
                ceiling = self.settings.number("PULL_BACKOFF_BASE_SECONDS") * 2**attempt
                self.sleep(self.rand(0.0, min(ceiling, self.settings.number("PULL_BACKOFF_CAP_SECONDS"))))
        raise AssertionError("unreachable")

    def _once(
        self, url: str, body: bytes | None, headers: Mapping[str, str], method: str | None = None
    ) -> bytes:
        if not url.startswith(("http://", "https://")):
            raise FetchFailed(f"{url!r} is not an http(s) URL")
        headers = {"User-Agent": "silkway-pull", **headers}
        request = urllib.request.Request(url, data=body, headers=headers, method=method)  # noqa: S310 - scheme checked
        limit = int(self.settings.number("PULL_MAX_RESPONSE_BYTES"))
        try:
            with self.opener.open(request, timeout=self.settings.number("PULL_TIMEOUT_SECONDS")) as answer:
                data: bytes = answer.read(limit + 1)
        except urllib.error.HTTPError as exc:
            retry_after = exc.headers.get("Retry-After") if exc.headers else None
            try:
                detail = exc.read(65536)
            except (OSError, HTTPException):
                detail = b""
            exc.close()
            if exc.code == 429:
                raise RetryLater(parse_retry_after(retry_after)) from None
            if exc.code >= 500:
                raise _Transient(f"{url} answered {exc.code}") from None
            raise FetchFailed(f"{url} answered {exc.code} {exc.reason}", exc.code, detail) from None
        except (TimeoutError, urllib.error.URLError, HTTPException, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            raise _Transient(f"{url}: {type(reason).__name__} {reason}".strip()) from None
        if len(data) > limit:
            raise FetchFailed(f"{url} answered more than {limit} bytes")
        return data


class _Transient(Exception):
    """A failure worth retrying: 5xx, a timeout, a refused or dropped connection."""


def parse_retry_after(value: str | None, default: float = 60.0) -> float:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date)."""
    if not value:
        return default
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, (when - utcnow()).total_seconds()) if when.tzinfo else default
