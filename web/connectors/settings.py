"""Which connectors the operator switched on, read from the app's configuration (SILKWAY_* variables).

17TRACK is on when ``TRACK17_API_KEY`` is set (the key of the 17TRACK API account, sent as the ``17token``
header), AfterShip when ``AFTERSHIP_API_KEY`` is (sent as ``as-api-key``); ``*_API_URL`` is each one's
base URL (tests point it at a local server). Cainiao's per-number query is on when ``CAINIAO_QUERY_URL``
is set (its public tracking endpoint takes no key), CDEK's when ``CDEK_CLIENT_ID`` and
``CDEK_CLIENT_SECRET`` are (OAuth client credentials). The order of ``rules`` is the order of preference
when several connectors report on a number: a carrier's own (Cainiao's, CDEK's) before the
aggregators, 17TRACK then AfterShip (any carrier).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracking.connectors import Rule

DEFAULTS: dict[str, Any] = {
    "TRACK17_API_KEY": None,
    "TRACK17_API_URL": "https://api.17track.net/track/v2.2",
    # 17TRACK: "3 requests per second" per key, at most 40 numbers per call (API v2.2 documentation).
    "TRACK17_RATE_PER_SECOND": 3.0,
    "TRACK17_BATCH": 40,
    "AFTERSHIP_API_KEY": None,
    "AFTERSHIP_API_URL": "https://api.aftership.com/tracking/2024-04",
    # AfterShip 2024-04: "10 requests per second" per organization; one number per call.
    "AFTERSHIP_RATE_PER_SECOND": 10.0,
    # Cainiao's global tracking query (the samples' global.cainiao.com/global/detail.json), polled per number.
    "CAINIAO_QUERY_URL": None,
    "CAINIAO_RATE_PER_SECOND": 1.0,
    "CAINIAO_POLL_SECONDS": 4 * 3600.0,
    # CDEK API v2: OAuth client credentials; an order's statuses pulled by CDEK number (no published limit).
    "CDEK_CLIENT_ID": None,
    "CDEK_CLIENT_SECRET": None,
    "CDEK_API_URL": "https://api.cdek.ru",
    "CDEK_WEBHOOK_URL": None,
    "CDEK_RATE_PER_SECOND": 2.0,
    "CDEK_POLL_SECONDS": 4 * 3600.0,
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


# The connectors in order of preference: name, the settings' prefix, the setting that switches it on (and
# holds its key, else its URL), the most numbers a call takes, the carriers it reports on (None: any).
CONNECTORS: tuple[tuple[str, str, str, int, frozenset[str] | None], ...] = (
    ("cainiao", "CAINIAO", "QUERY_URL", 1, frozenset({"cainiao"})),
    ("cdek", "CDEK", "CLIENT_ID", 1, frozenset({"cdek"})),
    ("track17", "TRACK17", "API_KEY", 40, None),
    ("aftership", "AFTERSHIP", "API_KEY", 1, None),
)


def configured(config: Mapping[str, Any]) -> list[ConnectorConfig]:
    """The connectors switched on (their ``<PREFIX>_API_KEY`` or ``CAINIAO_QUERY_URL`` set), by preference."""
    found: list[ConnectorConfig] = []
    for name, prefix, switch, most, _ in CONNECTORS:
        key = setting(config, f"{prefix}_{switch}")
        if not key:
            continue
        batch = int(setting(config, f"{prefix}_BATCH")) if f"{prefix}_BATCH" in DEFAULTS else most
        url = str(setting(config, f"{prefix}_QUERY_URL" if switch == "QUERY_URL" else f"{prefix}_API_URL"))
        rate = float(setting(config, f"{prefix}_RATE_PER_SECOND"))
        secret = "" if switch == "QUERY_URL" else str(key)
        found.append(ConnectorConfig(name, url.rstrip("/"), secret, rate, max(1, min(most, batch))))
    return found


def data_table(name: str, key: str) -> dict[str, Any]:
    """A connector's table in web/connectors/data/ (``name``.json), the mapping under ``key``."""
    path = Path(__file__).resolve().parent / "data" / f"{name}.json"
    table: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))[key]
    return table


def rules(config: Mapping[str, Any]) -> list[Rule]:
    """The routing rules of the configured connectors, in order of preference."""
    takes = {name: carriers for name, _, _, _, carriers in CONNECTORS}
    return [Rule(c.name, takes[c.name]) for c in configured(config)]
