"""Merchants using Silkway's API: they register their parcels and ask for delivery-time quotes.

Each call is made only if the app serves the endpoint (``routes`` lists the app's (path, method)
pairs; ``None`` means "unknown, try it"); a missing endpoint is noted once and skipped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from web.demo.emit.feed import Transport
from web.demo.journeys import Journey
from web.demo.world import World

PARCELS = "/api/v1/parcels"
QUOTES = "/api/v1/eta/quotes"
BATCH = 1000
QUOTES_PER_DAY = 3


@dataclass(slots=True)
class MerchantApi:
    """The merchants' side of the demo, speaking JSON with their own keys."""

    world: World
    transport: Transport
    keys: dict[str, str]
    routes: set[tuple[str, str]] | None
    registered: int = 0
    quotes: int = 0
    missing: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def available(self, path: str) -> bool:
        """Whether the endpoint is served (and has not answered 404/405 before)."""
        if f"POST {path}" in self.missing:
            return False
        if self.routes is not None and (path, "POST") not in self.routes:
            self.missing.append(f"POST {path}")
            return False
        return True

    def register(self, journeys: Sequence[Journey]) -> None:
        """Register the new parcels of the merchants that use the API, in batches per merchant."""
        if not journeys or not self.keys or not self.available(PARCELS):
            return
        by_merchant: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for trip in journeys:
            plan = trip.plan
            if plan.merchant.name in self.keys:
                by_merchant[plan.merchant.name].append(
                    {
                        "identifiers": [plan.number],
                        "origin": plan.origin,
                        "destination": plan.destination,
                        "service": plan.service,
                        "reference": f"ORD-{plan.number[-10:]}",
                        "ship_at": trip.shipped_at.isoformat(),
                    }
                )
        for name, items in by_merchant.items():
            for start in range(0, len(items), BATCH):
                chunk = items[start : start + BATCH]
                status, _answer = self._post(PARCELS, {"parcels": chunk}, self.keys[name])
                if status in (200, 201):
                    self.registered += len(chunk)

    def ask_quotes(self, moment: datetime, day_index: int) -> None:
        """A few quotes a day, as a shop's checkout page would ask them."""
        if not self.keys or not self.available(QUOTES):
            return
        rng = self.world.rng("quotes", day_index)
        merchants = [m for m in self.world.merchants if m.name in self.keys]
        if not merchants:
            return
        asks = []
        for _ in range(QUOTES_PER_DAY):
            merchant = rng.choice(merchants)
            destination = rng.choices(list(self.world.cities), weights=list(self.world.cities.values()))[0]
            found = self.world.service_and_route(rng, merchant, destination)
            if found is None:
                continue
            service = found[0]
            asks.append(
                {
                    "origin": merchant.origin,
                    "destination": destination,
                    "service": service,
                    "ship_at": moment.isoformat(),
                }
            )
        if not asks:
            return
        status, _answer = self._post(QUOTES, asks, self.keys[merchants[0].name])
        if status == 200:
            self.quotes += len(asks)

    def _post(self, path: str, body: object, key: str) -> tuple[int, Any]:
        status, answer = self.transport.post(path, orjson.dumps(body), "application/json", key)
        if status in (404, 405) and not (isinstance(answer, dict) and answer.get("errors")):
            self.missing.append(f"POST {path}")
        elif status >= 400:
            detail = answer.get("detail") if isinstance(answer, dict) else answer
            errors = answer.get("errors") if isinstance(answer, dict) else None
            self.errors.append(f"{path}: HTTP {status}: {detail} {str(errors)[:300] if errors else ''}")
        return status, answer
