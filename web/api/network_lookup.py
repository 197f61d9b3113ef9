"""Checking merchants' origins, destinations and service codes against the corridor network."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def _fallback_places() -> dict[str, str]:
    """Node ids and names (case-folded) from the bundled network file, for when routing is unavailable."""
    path = Path(__file__).resolve().parents[2] / "routing" / "data" / "network.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    index: dict[str, str] = {}
    for node in data["nodes"]:
        index[node["id"].casefold()] = node["id"]
        index.setdefault(node["name"].casefold(), node["id"])
    return index


def check_place(value: str, field: str) -> str:
    """The network place id for a city name (English, Russian or Chinese) or place id; ValueError if none."""
    try:
        from routing.network import load_network
    except ImportError:  # pragma: no cover - routing ships with the package
        found = _fallback_places().get(value.strip().casefold())
        if found is None:
            raise ValueError(f"unknown place {value!r}: give a city name or a network place id") from None
        return found
    try:
        return load_network().resolve(value, field)
    except ValueError:
        raise ValueError(f"unknown place {value!r}: give a city name or a network place id") from None


def service_codes() -> list[str]:
    """The codes of the shipping services."""
    try:
        from routing.services import load_services
    except ImportError:  # pragma: no cover - routing ships with the package
        path = Path(__file__).resolve().parents[2] / "routing" / "data" / "services.json"
        return [s["code"] for s in json.loads(path.read_text(encoding="utf-8"))["services"]]
    return sorted(load_services().services)


def check_service(code: str) -> str:
    """The service code if it names a shipping service; ValueError listing the known codes if not."""
    codes = service_codes()
    if code.strip() not in codes:
        raise ValueError(f"unknown service {code!r}; expected one of {', '.join(codes)}")
    return code.strip()
