"""The rate-limit headers of the IETF draft (draft-ietf-httpapi-ratelimit-headers), and Retry-After.

Every response of a limited route names the budgets that applied to it:
``RateLimit-Policy: "public";q=120;w=60`` (each budget's quota ``q`` in its window of ``w`` seconds) and
``RateLimit: "public";r=117;t=42`` (what remains of it, ``r``, and the seconds until it resets, ``t``).
The policies are the Flask-Limiter budgets the request met (``public``, ``api-key``, ``api-address``,
``api-auth-failures``) and the misses budget when a door looked numbers up (``public-misses-minute``,
``public-misses-day``: web/access/public_limits.py notes it with :func:`note`). Every 429 and every 503
carries ``Retry-After``: the answer's own, else the seconds until the breached budget resets (a 429),
else 5 (a 503, as the database's own refusals say).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from flask import Flask, Response, current_app, g
from flask_limiter import Limiter
from limits import RateLimitItem
from limits.util import WindowStats

UNAVAILABLE_RETRY_SECONDS = 5


@dataclass(frozen=True, slots=True)
class Budget:
    """One budget as the headers show it: its name, quota, window, what remains and when it resets."""

    name: str
    quota: int
    window: int
    remaining: int
    reset_in: int
    breached: bool


def _budget(name: str, item: RateLimitItem, stats: WindowStats, breached: bool) -> Budget:
    reset_in = max(0, math.ceil(stats.reset_time - time.time()))
    return Budget(name, item.amount, item.get_expiry(), max(0, stats.remaining), reset_in, breached)


def note(
    items: list[RateLimitItem], keys: list[str], scope: str, breached: RateLimitItem | None = None
) -> None:
    """Record that this request met the budgets ``items`` of ``scope`` (counted under ``keys``)."""
    noted: dict[str, tuple[RateLimitItem, list[str], bool]] = g.setdefault("silkway_limits", {})
    for item in items:
        name = scope if len(items) == 1 else f"{scope}-{item.GRANULARITY.name}"
        noted[name] = (item, keys, noted.get(name, (item, keys, False))[2] or item is breached)


def budgets(limiter: Limiter) -> list[Budget]:
    """The budgets this request met, smallest window first."""
    # a RequestLimit keeps its window, which Flask-Limiter's own headers then reuse
    found = [
        _budget(str(lim.request_args[-1]), lim.limit, lim.window, lim.breached)
        for lim in limiter.current_limits
    ]
    for name, (item, keys, breached) in g.get("silkway_limits", {}).items():
        found.append(_budget(name, item, limiter.limiter.get_window_stats(item, *keys), breached))
    return sorted(found, key=lambda b: (b.window, b.name))


def policy_header(found: list[Budget]) -> str:
    """The ``RateLimit-Policy`` value: each budget's quota and window."""
    return ", ".join(f'"{b.name}";q={b.quota};w={b.window}' for b in found)


def limit_header(found: list[Budget]) -> str:
    """The ``RateLimit`` value: what remains of each budget and when it resets."""
    return ", ".join(f'"{b.name}";r={b.remaining};t={b.reset_in}' for b in found)


def add_headers(response: Response) -> Response:
    """After each request: the draft's headers on limited routes; Retry-After on every 429 and 503."""
    limiter: Limiter | None = current_app.extensions.get("silkway.limiter")
    found = budgets(limiter) if limiter is not None and limiter.enabled else []
    if found:
        response.headers["RateLimit-Policy"] = policy_header(found)
        response.headers["RateLimit"] = limit_header(found)
    if response.status_code in (429, 503) and "Retry-After" not in response.headers:
        spent = [b.reset_in for b in found if b.breached or b.remaining == 0]
        seconds = max(spent, default=0) if response.status_code == 429 else UNAVAILABLE_RETRY_SECONDS
        response.headers["Retry-After"] = str(max(1, seconds or 60))
    return response


def init_app(app: Flask) -> None:
    """Add the headers to every response (after the limiter has counted the request)."""
    app.after_request(add_headers)
