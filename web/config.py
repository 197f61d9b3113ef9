"""Configuration defaults; create_app overlays SILKWAY_* environment variables and a test mapping.

Every key can be set as ``SILKWAY_<KEY>`` (values are parsed as JSON when they look like it, so
``SILKWAY_RATELIMIT_ENABLED=false`` and ``SILKWAY_MAX_BATCH_EVENTS=2000`` work).
"""

from __future__ import annotations

from typing import Any

DEFAULTS: dict[str, Any] = {
    "DATABASE_URL": None,  # None: tracking.db.default_url() (SQLite under instance/)
    # PostgreSQL: ping a pooled connection before use when it has been idle for more than
    # DB_POOL_PING_IDLE_SECONDS (0: before every use, a round trip per request); false: never (a connection
    # left dead by a database restart then fails one request with a 503 before it is replaced).
    "DB_POOL_PRE_PING": True,
    "DB_POOL_PING_IDLE_SECONDS": 10.0,
    # PostgreSQL streaming replicas for reads (web/replicas.py): comma-separated URLs; one further behind
    # than REPLICA_MAX_LAG_SECONDS, or down, is skipped until a check (every REPLICA_CHECK_SECONDS) finds it
    # well; a client that wrote reads past its write for READ_YOUR_WRITES_SECONDS.
    "DATABASE_REPLICA_URLS": "",
    "REPLICA_MAX_LAG_SECONDS": 5.0,
    "REPLICA_CHECK_SECONDS": 1.0,
    "READ_YOUR_WRITES_SECONDS": 30.0,
    "SECRET_KEY": "dev-only-change-me",
    "LOG_LEVEL": "INFO",
    "JSON_LOGS": True,
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    "MAX_BATCH_EVENTS": 5000,
    "SIGNATURE_TOLERANCE_SECONDS": 300,
    # Rate limits per client address; use Redis storage when more than one worker serves (on memory://
    # gunicorn.conf.py refuses several workers unless RATELIMIT_ALLOW_PER_WORKER: access/limit_storage.py).
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_PUBLIC": "120/minute",
    "RATELIMIT_MISSES": "30/minute;300/day",
    "RATELIMIT_ALLOW_PER_WORKER": False,
    # /metrics: with a token, only `Authorization: Bearer <token>`; without one, loopback clients only.
    "METRICS_TOKEN": None,
    # Behind a load balancer: how many proxies set X-Forwarded-For (0 trusts none).
    "PROXY_HOPS": 0,
    # Merchants' webhooks.
    "WEBHOOK_SENDER": "urllib",
    "WEBHOOK_TIMEOUT_SECONDS": 10,
    "ALLOW_PRIVATE_WEBHOOK_TARGETS": False,
    # The ETA model learns from at most this many parcels of its 120-day window (an evenly spread sample).
    "LEARNING_MAX_PARCELS": 100_000,
    # Finished webhook messages with their delivery log, and job ticks, are deleted after this many days.
    "RETENTION_DAYS": 30,
    # PostgreSQL: whole months of events older than this many months are dropped (0: the history is kept).
    "HISTORY_RETENTION_MONTHS": 0,
    # Shoppers' mail notifications (web/worker/mail_jobs.py): no SMTP_URL, no mail is sent.
    "SMTP_URL": None,  # smtp://host:port, smtp+starttls://user:pass@host:587, smtps://user:pass@host:465
    "MAIL_FROM": "Silkway <notifications@localhost>",
    "PUBLIC_URL": "http://127.0.0.1:8000",  # the base of the links in mails
    "NOTIFICATION_RETENTION_DAYS": 30,  # a subscription is deleted this long after its parcel's tracking ends
    "RATELIMIT_SUBSCRIBE": "10/hour",  # subscriptions per client address
    "RATELIMIT_SUBSCRIBE_ADDRESS": "3/hour;10/day",  # subscriptions per e-mail address
    # The dashboard's session cookie.
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SECURE": False,
}
