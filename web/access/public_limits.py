"""Per-client rate limits on the public pages and the public API, so numbers cannot be enumerated cheaply.

Two budgets per client address, shared by the pages and the public API:
- ``RATELIMIT_PUBLIC`` (e.g. ``120/minute``) counts every request;
- ``RATELIMIT_MISSES`` (e.g. ``30/minute;300/day``) counts only look-ups of numbers that are not there
  (404 and 400 answers, and each unknown number on the several-numbers page), which is what guessing
  numbers produces.

Counters live where ``RATELIMIT_STORAGE_URI`` says: ``memory://`` counts per process, so use Redis
(``redis://host:6379``) when more than one worker serves. ``RATELIMIT_ENABLED = False`` turns limits off.
An API client over its budget gets problem+json; a person gets a page that says when to try again.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, g, render_template, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

from web.errors import Problem

PUBLIC_BLUEPRINTS = ("pages", "public_api")
DEFAULT_MISSES = "30/minute;300/day"
EXEMPT_ENDPOINTS = {"pages.basemap"}


def note_misses(count: int) -> None:
    """Record how many unknown numbers this request looked up (charged to the misses budget)."""
    g.silkway_misses = count


def _missed(response: Response) -> bool:
    return response.status_code in (400, 404) or bool(g.get("silkway_misses"))


def _miss_cost() -> int:
    return max(1, int(g.get("silkway_misses", 1)))


def _exempt() -> bool:
    return request.endpoint in EXEMPT_ENDPOINTS


def _public_limit() -> str:
    return str(current_app.config["RATELIMIT_PUBLIC"])


def _misses_limit() -> str:
    return str(current_app.config.get("RATELIMIT_MISSES") or DEFAULT_MISSES)


def too_many_requests(exc: RateLimitExceeded) -> tuple[str, int] | Response:
    """The 429 answer: problem+json on the API, a friendly page for people."""
    if request.path.startswith("/api/"):
        return Problem(
            429,
            "Too Many Requests",
            f"rate limit exceeded ({exc.description}); wait a minute and try again",
            slug="rate-limited",
        ).response()
    return render_template("errors/429.html"), 429


def init_app(app: Flask) -> None:
    """Attach Flask-Limiter to the app and put the public blueprints under the two budgets."""
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    app.config.setdefault("RATELIMIT_MISSES", DEFAULT_MISSES)
    app.register_error_handler(429, too_many_requests)
    limiter = Limiter(get_remote_address, strategy="moving-window")
    limiter.init_app(app)
    app.extensions["silkway.limiter"] = limiter
    if not limiter.enabled:
        return
    every = limiter.shared_limit(_public_limit, scope="public", exempt_when=_exempt)
    misses = limiter.shared_limit(
        _misses_limit, scope="public-misses", exempt_when=_exempt, deduct_when=_missed, cost=_miss_cost
    )
    for name in PUBLIC_BLUEPRINTS:
        blueprint = app.blueprints.get(name)
        if isinstance(blueprint, Blueprint):
            every(blueprint)
            misses(blueprint)
