"""Which connectors the operator switched on, read from the app's configuration (SILKWAY_* variables).

17TRACK is on when ``TRACK17_API_KEY`` is set (the key of the 17TRACK API account, sent as the ``17token``
header); ``TRACK17_API_URL`` is its base URL (tests point it at a local server). The order of
``rules`` is the order of preference when several connectors report on a number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tracking.connectors import Rule

DEFAULTS: dict[str, Any] = {
    "TRACK17_API_KEY": None,
    "TRACK17_API_URL": "https://api.17track.net/track/v2.2",
    # 17TRACK: "3 requests per second" per key, at most 40 numbers per call (API v2.2 documentation).
    "TRACK17_RATE_PER_SECOND": 3.0,
    "TRACK17_BATCH": 40,
    # How long one scheduler tick may spend calling the services.
    "CONNECTORS_BUDGET_SECONDS": 20.0,
}


@dataclass(frozen=True, slots=True)
class ConnectorConfig:
    """One configured connector: its name, base URL, key, rate (calls per second) and batch size."""

    name: str
    url: str
    key: str
    rate_per_second: float
    batch: int


def setting(config: Mapping[str, Any], key: str) -> Any:
    """A connector setting: the app's value, else the default."""
    value = config.get(key)
    return DEFAULTS[key] if value is None else value


def configured(config: Mapping[str, Any]) -> list[ConnectorConfig]:
    """The connectors switched on, in order of preference."""
    found: list[ConnectorConfig] = []
    key = setting(config, "TRACK17_API_KEY")
    if key:
        found.append(
            ConnectorConfig(
                "track17",
                str(setting(config, "TRACK17_API_URL")).rstrip("/"),
                str(key),
                float(setting(config, "TRACK17_RATE_PER_SECOND")),
                max(1, min(40, int(setting(config, "TRACK17_BATCH")))),
            )
        )
    return found


def rules(config: Mapping[str, Any]) -> list[Rule]:
    """The routing rules of the configured connectors (17TRACK is an aggregator: any carrier)."""
    return [Rule(c.name, None) for c in configured(config)]
