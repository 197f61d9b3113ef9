"""Cainiao's global tracking query, polled per number: ``GET {base}/detail.json?mailNos=<n>&lang=en-US``.

The endpoint the samples come from (global.cainiao.com, tests/fixtures/samples/cainiao_global_detail_*):
it takes no key and answers ``{"module": [{"mailNo", "status", "detailList": [...]}], "success": true}``,
an unknown number with an empty ``detailList``. Cainiao publishes neither the endpoint nor a limit: the
connector asks at most CAINIAO_RATE_PER_SECOND (1) times a second, one number a call, each number every
CAINIAO_POLL_SECONDS (4 hours) until its parcel arrives. Each answer is stored as a payload of the
carrier ``cainiao`` (the ``cainiao`` adapter reads it) in the unit of work that records the poll.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

import orjson

from tracking.connectors import Answer
from web.connectors.settings import ConnectorConfig
from web.connectors.track17 import ConnectorFailed, Item
from web.feeds.client import FeedClient


class Cainiao:
    """Polls Cainiao for each number over the shared HTTP client (its own token bucket, ``cainiao``)."""

    name = "cainiao"
    batch = 1
    quota_codes: tuple[str, ...] = ()
    payload_carrier: str | None = "cainiao"

    def __init__(self, config: ConnectorConfig, client: FeedClient, poll_seconds: float) -> None:
        self.config, self.client, self.poll_seconds = config, client, poll_seconds

    def quota(self) -> int | None:
        """No quota: the query is public."""
        return None

    def call(self, call: str, items: Sequence[Item]) -> list[Answer]:
        """``register``, ``poll`` and ``changecarrier`` query now; ``stop`` ends polling (nothing to tell)."""
        if call == "stop":
            return [Answer(i.number, "stopped", None, None, "polling stopped") for i in items]
        return [self._query(item.number) for item in items]

    def _query(self, number: str) -> Answer:
        url = f"{self.config.url}/detail.json?mailNos={quote(number, safe='')}&lang=en-US"
        raw = self.client.fetch(self.name, url)
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise ConnectorFailed("Cainiao's answer is not JSON") from None
        if (
            not isinstance(doc, dict)
            or doc.get("success") is not True
            or not isinstance(doc.get("module"), list)
        ):
            raise ConnectorFailed("Cainiao's answer is not a successful tracking detail")
        modules = [m for m in doc["module"] if isinstance(m, dict)]
        scans = sum(len(m.get("detailList") or []) for m in modules)
        message = f"queried: {scans} scans" if scans else "queried: no scans yet"
        return Answer(number, "registered", None, None, message, self.poll_seconds, "poll", raw)
