"""Per-client rate limits on the public pages and the public API, so numbers cannot be enumerated cheaply.

Two budgets per client address, shared by the pages and the public API:
- ``RATELIMIT_PUBLIC`` (e.g. ``120/minute``) counts every request to the pages and the public API;
- ``RATELIMIT_MISSES`` (e.g. ``30/minute;300/day``) counts unknown numbers, one unit each, on every door
  that looks numbers up: ``GET /api/v1/parcels/{n}``, ``GET /api/v1/parcels/{n}/eta``, ``/track/{n}``
  and each number of ``/track?numbers=…``. Known numbers cost nothing.

Every door calls :func:`looked_up`: before any lookup it tests that the misses budget has room for every
number of the request (as if all were unknown, since that is not known yet) and refuses with 429
otherwise, so an answer never tells a known number from an unknown one once the budget is spent; after
the lookups it charges the unknown ones, and refuses (429, the answer withheld) if concurrent requests of
the same client spent the budget meanwhile.

Counters live where ``RATELIMIT_STORAGE_URI`` says: ``memory://`` counts per process, so use Redis
(``redis://host:6379``) when more than one worker serves (web/access/limit_storage.py: gunicorn.conf.py
refuses several workers on ``memory://`` unless told to allow it). ``RATELIMIT_ENABLED = False`` turns
limits off. An API client over its budget gets problem+json; a person gets a page that says when to try
again; both with ``Retry-After``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from flask import Blueprint, Flask, Response, current_app, render_template, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many
from werkzeug.exceptions import HTTPException, TooManyRequests

from web.access import limit_headers
from web.errors import Problem

PUBLIC_BLUEPRINTS = ("pages", "public_api", "subscription_pages", "subscriptions_api")
DEFAULT_MISSES = "30/minute;300/day"
EXEMPT_ENDPOINTS = {"pages.basemap"}
MISSES_SCOPE = "public-misses"

T = TypeVar("T")


class MissesExceeded(TooManyRequests):
    """A 429: the client's budget of unknown numbers has no room for this request's numbers."""

    def __init__(self, limit: RateLimitItem, retry_after: int) -> None:
        super().__init__(f"{limit} unknown numbers", retry_after=retry_after)
        self.retry_seconds = retry_after


def _exempt() -> bool:
    return request.endpoint in EXEMPT_ENDPOINTS


def _public_limit() -> str:
    return str(current_app.config["RATELIMIT_PUBLIC"])


def _misses_limits() -> list[RateLimitItem]:
    return parse_many(str(current_app.config.get("RATELIMIT_MISSES") or DEFAULT_MISSES))


def _active_limiter() -> Limiter | None:
    limiter: Limiter | None = current_app.extensions.get("silkway.limiter")
    return limiter if limiter is not None and limiter.enabled else None


def _identifiers() -> list[str]:
    prefix = str(current_app.config.get("RATELIMIT_KEY_PREFIX") or "")
    return [*([prefix] if prefix else []), get_remote_address(), MISSES_SCOPE]


def _refused(limiter: Limiter, item: RateLimitItem, keys: list[str]) -> MissesExceeded:
    reset = limiter.limiter.get_window_stats(item, *keys).reset_time
    return MissesExceeded(item, max(1, math.ceil(reset - time.time())))


def check_misses(count: int) -> None:
    """Before looking up ``count`` numbers: 429 unless the misses budget has room for all of them."""
    limiter = _active_limiter()
    if limiter is None or count <= 0:
        return
    keys, items = _identifiers(), _misses_limits()
    limit_headers.note(items, keys, MISSES_SCOPE)
    for item in items:
        if not limiter.limiter.test(item, *keys, cost=count):
            limit_headers.note(items, keys, MISSES_SCOPE, breached=item)
            raise _refused(limiter, item, keys)


def charge_misses(count: int) -> None:
    """After the lookups: charge ``count`` unknown numbers; 429 if the budget was spent meanwhile."""
    limiter = _active_limiter()
    if limiter is None or count <= 0:
        return
    keys, items = _identifiers(), _misses_limits()
    for item in items:
        if not limiter.limiter.hit(item, *keys, cost=count):
            limit_headers.note(items, keys, MISSES_SCOPE, breached=item)
            raise _refused(limiter, item, keys)


def looked_up(numbers: Sequence[str], look_up: Callable[[str], T | None]) -> list[T | None]:
    """``look_up`` each number under the misses budget: room for all is checked first, then each
    number found as None (unknown, or not even well formed) costs one unit."""
    check_misses(len(numbers))
    found = [look_up(number) for number in numbers]
    charge_misses(sum(1 for item in found if item is None))
    return found


def too_many_requests(exc: HTTPException) -> tuple[str, int, dict[str, str]] | Response:
    """The 429 answer: problem+json on the API, a friendly page for people; both with Retry-After."""
    retry = getattr(exc, "retry_seconds", None)
    headers = {"Retry-After": str(retry)} if retry is not None else {}
    if request.path.startswith("/api/"):
        return Problem(
            429,
            "Too Many Requests",
            f"rate limit exceeded ({exc.description}); wait a minute and try again",
            slug="rate-limited",
            headers=headers,
        ).response()
    return render_template("errors/429.html"), 429, headers


def init_app(app: Flask) -> None:
    """Attach Flask-Limiter to the app and put the public blueprints under the budget of requests
    (the doors that look numbers up charge the misses budget themselves: :func:`looked_up`)."""
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    app.config.setdefault("RATELIMIT_MISSES", DEFAULT_MISSES)
    app.register_error_handler(429, too_many_requests)
    limiter = Limiter(get_remote_address, strategy="moving-window")
    limiter.init_app(app)
    app.extensions["silkway.limiter"] = limiter
    if not limiter.enabled:
        return
    every = limiter.shared_limit(_public_limit, scope="public", exempt_when=_exempt)
    for name in PUBLIC_BLUEPRINTS:
        blueprint = app.blueprints.get(name)
        if isinstance(blueprint, Blueprint):
            every(blueprint)
