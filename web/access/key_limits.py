"""Rate limits on the authenticated APIs (carriers, merchants, operators, ETA), on public_limits' Limiter.

Three budgets, counted where ``RATELIMIT_STORAGE_URI`` says (Redis when several workers serve):
- ``RATELIMIT_API_KEY`` (default ``1200/minute``) per API key: one noisy integration cannot starve others;
- ``RATELIMIT_API_IP`` (default ``6000/minute``) per client address, whatever keys it presents;
- ``RATELIMIT_API_AUTH_FAILURES`` (default ``30/minute``) per client address, counting only answers 401
  and 403: guessing keys is cut off quickly while a well-behaved client never meets it.

Keys are counted by a hash of the presented key, never the key itself. Over a budget the answer is 429
problem+json (web.access.public_limits.too_many_requests).
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, Flask, Response, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

API_BLUEPRINTS = ("carriers_api", "merchants_api", "operators_api", "eta_api")
DEFAULTS = {
    "RATELIMIT_API_KEY": "1200/minute",
    "RATELIMIT_API_IP": "6000/minute",
    "RATELIMIT_API_AUTH_FAILURES": "30/minute",
}


def api_key_identity() -> str:
    """Who the per-key budget charges: a hash of the Bearer key, else the client address."""
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and key.strip():
        return "key:" + hashlib.sha256(key.strip().encode()).hexdigest()[:32]
    return "address:" + get_remote_address()


def _limit(name: str) -> str:
    return str(current_app.config[name])


def _auth_failed(response: Response) -> bool:
    return response.status_code in (401, 403)


def init_app(app: Flask) -> None:
    """Put the authenticated API blueprints under the per-key and per-address budgets."""
    for name, value in DEFAULTS.items():
        app.config.setdefault(name, value)
    limiter: Limiter | None = app.extensions.get("silkway.limiter")
    if limiter is None or not limiter.enabled:
        return
    per_key = limiter.shared_limit(
        lambda: _limit("RATELIMIT_API_KEY"), scope="api-key", key_func=api_key_identity
    )
    per_address = limiter.shared_limit(
        lambda: _limit("RATELIMIT_API_IP"), scope="api-address", key_func=get_remote_address
    )
    failures = limiter.shared_limit(
        lambda: _limit("RATELIMIT_API_AUTH_FAILURES"),
        scope="api-auth-failures",
        key_func=get_remote_address,
        deduct_when=_auth_failed,
    )
    for name in API_BLUEPRINTS:
        blueprint = app.blueprints.get(name)
        if isinstance(blueprint, Blueprint):
            per_key(blueprint)
            per_address(blueprint)
            failures(blueprint)
