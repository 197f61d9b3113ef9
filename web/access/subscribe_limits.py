"""How often subscriptions may be asked for: per client address (``RATELIMIT_SUBSCRIBE``) and per e-mail
address (``RATELIMIT_SUBSCRIBE_ADDRESS``), so neither a client nor a stranger can bury one inbox in
confirmation mails. The e-mail address is counted by its digest: it never becomes a storage key.

Both budgets are charged by each request, the API's and the form's, on top of the public budget;
over either is a 429 (web/access/public_limits.py answers it, problem+json or a page).
"""

from __future__ import annotations

import hashlib
import math
import time

from flask import current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many
from werkzeug.exceptions import TooManyRequests

from web.access import limit_headers

DEFAULT_PER_CLIENT = "10/hour"
DEFAULT_PER_ADDRESS = "3/hour;10/day"


class SubscriptionsExceeded(TooManyRequests):
    """A 429: this client, or this address, has asked for subscriptions too often."""

    def __init__(self, limit: RateLimitItem, retry_after: int) -> None:
        super().__init__(f"{limit} subscriptions", retry_after=retry_after)
        self.retry_seconds = retry_after


def _prefix() -> list[str]:
    prefix = str(current_app.config.get("RATELIMIT_KEY_PREFIX") or "")
    return [prefix] if prefix else []


def charge_subscription(email: str) -> None:
    """Charge one subscription to the client and to the address; 429 when either budget is spent."""
    limiter: Limiter | None = current_app.extensions.get("silkway.limiter")
    if limiter is None or not limiter.enabled:
        return
    digest = hashlib.sha256(email.lower().encode()).hexdigest()[:32]
    budgets = (
        ("RATELIMIT_SUBSCRIBE", DEFAULT_PER_CLIENT, ["subscribe-client", get_remote_address()]),
        ("RATELIMIT_SUBSCRIBE_ADDRESS", DEFAULT_PER_ADDRESS, ["subscribe-address", digest]),
    )
    for setting, default, keys in budgets:
        items = parse_many(str(current_app.config.get(setting) or default))
        limit_headers.note(items, [*_prefix(), *keys], keys[0])  # RateLimit-Policy and RateLimit
        for item in items:
            if not limiter.limiter.hit(item, *_prefix(), *keys):
                limit_headers.note(items, [*_prefix(), *keys], keys[0], breached=item)
                reset = limiter.limiter.get_window_stats(item, *_prefix(), *keys).reset_time
                raise SubscriptionsExceeded(item, max(1, math.ceil(reset - time.time())))
