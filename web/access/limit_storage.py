"""Where the rate-limit counters live, and the start-up check that several workers do not count alone.

With ``RATELIMIT_STORAGE_URI=memory://`` every process counts for itself, so a client whose requests
land on several gunicorn workers gets every budget once per worker (4 workers: 4 × 30 unknown numbers a
minute). gunicorn.conf.py therefore refuses to start several workers on ``memory://`` while rate limits
are on, unless ``RATELIMIT_ALLOW_PER_WORKER`` is true; then the master and every worker log a WARNING
naming the budgets a client really gets. One worker on ``memory://`` is exact; Redis
(``redis://host:6379``) is shared by every worker of every machine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Config
from limits import parse_many

from web.access.key_limits import DEFAULTS as KEY_DEFAULTS
from web.config import DEFAULTS

# The budgets of public_limits and key_limits, with their defaults.
BUDGETS: dict[str, str] = {
    "RATELIMIT_PUBLIC": DEFAULTS["RATELIMIT_PUBLIC"],
    "RATELIMIT_MISSES": DEFAULTS["RATELIMIT_MISSES"],
    **KEY_DEFAULTS,
}


def counts_per_process(storage_uri: str | None) -> bool:
    """True when the counters live in each process's memory (``memory://``, the default)."""
    return (storage_uri or "memory://").strip().lower().startswith("memory://")


def _multiplied(limits: str, workers: int) -> str:
    parts = []
    for item in parse_many(limits):
        per = item.GRANULARITY.name if item.multiples == 1 else f"{item.multiples} {item.GRANULARITY.name}s"
        parts.append(f"{item.amount * workers}/{per}")
    return ";".join(parts)


def effective_budgets(config: Mapping[str, Any], workers: int) -> dict[str, tuple[str, str]]:
    """Each budget as configured and as a client really gets it when ``workers`` count alone."""
    out = {}
    for name, default in BUDGETS.items():
        configured = str(config.get(name) or default)
        out[name] = (configured, _multiplied(configured, workers))
    return out


@dataclass(frozen=True, slots=True)
class StartupCheck:
    """What gunicorn.conf.py says before serving: refuse to start, or warn (``message``)."""

    refuse: bool
    message: str


def check_workers(config: Mapping[str, Any], workers: int) -> StartupCheck | None:
    """None when every worker shares the counters (or one serves, or limits are off); else what to say."""
    if workers <= 1 or not config.get("RATELIMIT_ENABLED", True):
        return None
    if not counts_per_process(config.get("RATELIMIT_STORAGE_URI")):
        return None
    budgets = ", ".join(
        f"{name} {real} (configured {configured})"
        for name, (configured, real) in effective_budgets(config, workers).items()
    )
    if config.get("RATELIMIT_ALLOW_PER_WORKER"):
        return StartupCheck(
            False,
            f"rate limits are counted per worker (RATELIMIT_STORAGE_URI=memory://) and {workers} workers "
            f"serve, so a client may get {workers} × every budget: {budgets}. Set "
            "SILKWAY_RATELIMIT_STORAGE_URI=redis://… to hold the configured budgets.",
        )
    return StartupCheck(
        True,
        f"{workers} workers would count rate limits each on its own (RATELIMIT_STORAGE_URI=memory://), "
        f"giving a client {workers} × every budget: {budgets}. Set "
        "SILKWAY_RATELIMIT_STORAGE_URI=redis://host:6379 (shared counters), or serve with one worker "
        "(SILKWAY_WORKERS=1), or accept per-worker budgets with SILKWAY_RATELIMIT_ALLOW_PER_WORKER=true.",
    )


def startup_config() -> dict[str, Any]:
    """The configuration create_app will see from the environment (defaults, then SILKWAY_*), without
    building the app: what gunicorn.conf.py's hooks check."""
    config = Config(".")
    config.from_mapping(DEFAULTS)
    config.from_prefixed_env(prefix="SILKWAY")
    return dict(config)
