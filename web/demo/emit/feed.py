"""Carrier feeds: when each scan is reported, and pushing batches of native payloads to Silkway's API.

Real feeds report a scan minutes to hours after it happens, some a day or more late (so they arrive
out of order), drop a few intermediate scans, re-send some scans later (exact duplicates) and retry a
whole payload when an answer got lost. ``schedule`` decides that for each scan; ``Feed.send`` groups
what is due into each carrier's payloads and posts them with the carrier's key through a transport:
the Flask test client in-process, or real HTTP to a running server (live mode).
"""

from __future__ import annotations

import json
import random
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from web.demo.emit import cainiao as emit_cainiao
from web.demo.emit import cdek as emit_cdek
from web.demo.emit import russian_post as emit_russian_post
from web.demo.journeys import CDEK, CN, PROTECTED, RP, Journey, Scan
from web.demo.world import World

EVENTS_PATH = "/api/v1/carriers/{}/events"
CAINIAO_MODULES = 100
RP_RECORDS = 500
CDEK_HOOKS = 500
HANDOVER_CODES = {"LH_HO_OUT_SUCCESS", "GTMS_ACCEPT"}


@dataclass(slots=True)
class Delivery:
    """One scan to be sent at ``due``; ``duplicate`` marks a deliberate re-send of a scan already sent."""

    journey: Journey
    scan: Scan
    duplicate: bool
    due: datetime


def schedule(world: World, journey: Journey) -> list[Delivery]:
    """Decide, for each scan of a journey, whether, when and how often its carrier reports it."""
    rng = world.rng("feed", journey.plan.key)
    cfg = world.config["feed"]
    delay = cfg["report_delay_minutes"]
    late = cfg["late_hours"]
    out: list[Delivery] = []
    for position, scan in enumerate(journey.scans):
        missing, is_late, duplicate = rng.random(), rng.random(), rng.random()
        protected = scan.code in PROTECTED or position == 0
        if not protected and missing < cfg["missing"]:
            scan.sent = False
            continue
        wait = timedelta(minutes=rng.uniform(delay["min"], delay["max"]))
        if not protected and is_late < cfg["late"]:
            wait = timedelta(hours=rng.uniform(late["min"], late["max"]))
        scan.reported_at = scan.at + wait
        out.append(Delivery(journey, scan, False, scan.reported_at))
        if duplicate < cfg["duplicate"]:
            scan.resend_at = scan.reported_at + timedelta(hours=rng.uniform(1, 72))
            out.append(Delivery(journey, scan, True, scan.resend_at))
    return out


class Transport(Protocol):
    """Posts a body to a path of Silkway's API with a Bearer key; answers (status, JSON body)."""

    def post(self, path: str, body: bytes, content_type: str, key: str) -> tuple[int, Any]:
        """Send one request."""
        ...


@dataclass(slots=True)
class ClientTransport:
    """In-process: the Flask test client, so HTTP handling, auth, parsing and ingestion all run."""

    client: Any

    def post(self, path: str, body: bytes, content_type: str, key: str) -> tuple[int, Any]:
        """Send one request through the WSGI app."""
        response = self.client.post(
            path, data=body, content_type=content_type, headers={"Authorization": f"Bearer {key}"}
        )
        return response.status_code, response.get_json(silent=True)


@dataclass(slots=True)
class HttpTransport:
    """Real HTTP with the standard library, to a server at ``base_url``."""

    base_url: str
    timeout: float = 30.0

    def post(self, path: str, body: bytes, content_type: str, key: str) -> tuple[int, Any]:
        """Send one request over the network."""
        request = urllib.request.Request(  # noqa: S310 - the operator's own server
            self.base_url.rstrip("/") + path,
            data=body,
            method="POST",
            headers={"Content-Type": content_type, "Authorization": f"Bearer {key}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                return exc.code, json.loads(raw or b"null")
            except ValueError:
                return exc.code, {"detail": raw[:300].decode("utf-8", "replace")}


@dataclass(slots=True)
class FeedStats:
    """What was sent and what the API answered."""

    payloads: int = 0
    events_sent: int = 0
    deliberate_duplicates: int = 0
    retries: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    errors: list[str] = field(default_factory=list)
    per_parcel: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))


@dataclass(slots=True)
class Feed:
    """Sends due scans as native payloads with each carrier's key."""

    world: World
    transport: Transport
    keys: dict[str, str]
    rng: random.Random
    stats: FeedStats = field(default_factory=FeedStats)

    def send(self, due: Sequence[Delivery], pushed_at: datetime) -> None:
        """Post everything due, carrier by carrier, in batches."""
        by_carrier: dict[str, list[Delivery]] = defaultdict(list)
        for item in sorted(due, key=lambda d: (d.due, d.scan.number)):
            by_carrier[item.scan.carrier].append(item)
        for item_batch in _chunks_by_parcel(by_carrier[CN], CAINIAO_MODULES):
            modules = _modules(item_batch, pushed_at)
            self._post(
                CN,
                emit_cainiao.payload(self.world, modules, pushed_at),
                emit_cainiao.CONTENT_TYPE,
                item_batch,
            )
        for start in range(0, len(by_carrier[RP]), RP_RECORDS):
            batch = by_carrier[RP][start : start + RP_RECORDS]
            body = emit_russian_post.payload(self.world, [d.scan for d in batch])
            self._post(RP, body, emit_russian_post.CONTENT_TYPE, batch)
        for start in range(0, len(by_carrier[CDEK]), CDEK_HOOKS):
            batch = by_carrier[CDEK][start : start + CDEK_HOOKS]
            items = [(d.journey.plan, d.scan) for d in batch]
            body = emit_cdek.payload(self.world, items, pushed_at)
            self._post(CDEK, body, emit_cdek.CONTENT_TYPE, batch)

    def _post(self, carrier: str, body: bytes, content_type: str, batch: Sequence[Delivery]) -> None:
        stats = self.stats
        attempts = 2 if self.rng.random() < self.world.config["feed"]["retry"] else 1
        for attempt in range(attempts):
            status, answer = self.transport.post(
                EVENTS_PATH.format(carrier), body, content_type, self.keys[carrier]
            )
            stats.payloads += 1
            stats.events_sent += len(batch)
            for item in batch:
                counters = stats.per_parcel[item.journey.plan.number]
                counters[0] += 1
                if item.duplicate or attempt:
                    counters[1] += 1
            stats.deliberate_duplicates += sum(1 for d in batch if d.duplicate or attempt)
            stats.retries += attempt
            if status != 200 or not isinstance(answer, dict):
                detail = answer.get("detail") if isinstance(answer, dict) else answer
                stats.errors.append(f"{carrier}: HTTP {status}: {detail}")
                continue
            stats.accepted += int(answer.get("accepted", 0))
            stats.duplicates += int(answer.get("duplicates", 0))
            stats.rejected += len(answer.get("rejected") or [])
            for problem in (answer.get("rejected") or [])[:5]:
                stats.errors.append(f"{carrier}: rejected item {problem}")


def handover_at(journey: Journey) -> datetime | None:
    """When Cainiao handed the parcel to the Russian carrier (from then on it names the new number)."""
    return next((s.at for s in journey.scans if s.code in HANDOVER_CODES), None)


def _chunks_by_parcel(items: list[Delivery], size: int) -> list[list[Delivery]]:
    chunks: list[list[Delivery]] = []
    parcels: dict[str, int] = {}
    for item in items:
        number = item.scan.number
        if number not in parcels:
            if not chunks or len({d.scan.number for d in chunks[-1]}) >= size:
                chunks.append([])
            parcels[number] = len(chunks) - 1
        chunks[parcels[number]].append(item)
    return chunks


def _modules(items: list[Delivery], pushed_at: datetime) -> list[emit_cainiao.Module]:
    grouped: dict[str, list[Delivery]] = defaultdict(list)
    for item in items:
        grouped[item.scan.number].append(item)
    modules = []
    for group in grouped.values():
        journey = group[0].journey
        handed = handover_at(journey)
        modules.append(
            emit_cainiao.Module(
                journey.plan, [d.scan for d in group], handed is not None and handed <= pushed_at
            )
        )
    return modules


def due_between(deliveries: Sequence[Delivery], after: datetime, until: datetime) -> list[Delivery]:
    """The deliveries due in the window (after, until]."""
    return [d for d in deliveries if after < d.due <= until]


Filter = Callable[[Delivery], bool]
