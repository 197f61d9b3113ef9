"""Configuration defaults; create_app overlays SILKWAY_* environment variables and a test mapping."""

from __future__ import annotations

from typing import Any

DEFAULTS: dict[str, Any] = {
    "DATABASE_URL": None,  # None: tracking.db.default_url() (SQLite under instance/)
    "SECRET_KEY": "dev-only-change-me",
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    "MAX_BATCH_EVENTS": 5000,
    "JSON_SORT_KEYS": False,
    "SIGNATURE_TOLERANCE_SECONDS": 300,
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_PUBLIC": "120/minute",
    "RATELIMIT_ENABLED": True,
    "ALLOW_PRIVATE_WEBHOOK_TARGETS": False,
    "DEMO_LIVE": False,
}
