"""The world the OpenAPI probe runs against: a live gunicorn on a database with a key of every role, one
parcel known to the carrier and the merchant, one webhook; and the figures of its access log."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.request import Request, urlopen

import orjson

from tests.reliability.support import gunicorn
from tracking.accounts import create_key, ensure_carrier, ensure_merchant
from tracking.db import make_engine, make_session_factory

KNOWN = "RX747628194CN"
METRICS_TOKEN = "probe-metrics-token"
# gunicorn's access line: host - user [time] "request line" status bytes "referer" "agent"
ACCESS_LINE = re.compile(r'^\S+ - \S+ \[[^\]]+\] ".*" (\d{3}) (?:\d+|-) ')


@dataclass(frozen=True)
class World:
    """A served database: its base URL and a key per role."""

    base: str
    keys: dict[str, str]


def role_keys(url: str) -> dict[str, str]:
    """A fresh key of each role on the database at ``url``."""
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            keys = {
                "carrier": create_key(
                    session, "carrier", carrier=ensure_carrier(session, "acme_post", "canonical")
                ),
                "merchant": create_key(session, "merchant", merchant=ensure_merchant(session, "Shop")),
                "operator": create_key(session, "operator"),
            }
            session.commit()
    finally:
        engine.dispose()
    return keys


def post(base: str, path: str, key: str, body: object) -> int:
    """POST a JSON body with a key; the answer's status."""
    request = Request(
        base + path,
        data=orjson.dumps(body),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urlopen(request, timeout=30) as answer:
        return int(answer.status)


def seed(world: World) -> None:
    """One scanned parcel, registered by the merchant, and one webhook subscription."""
    scan = {
        "tracking_number": KNOWN,
        "status": "in_transit",
        "substatus": "departed",
        "occurred_at": "2026-10-20T08:31:00+08:00",
        "location": {"name": "Shenzhen", "country": "CN"},
    }
    parcel = {
        "identifiers": [KNOWN],
        "origin": "Shenzhen",
        "destination": "Moscow",
        "service": "standard_air",
        "reference": "order-1",
    }
    hook = {"url": "https://shop.example/hooks"}
    assert (
        post(world.base, "/api/v1/carriers/acme_post/events", world.keys["carrier"], {"events": [scan]})
        == 200
    )
    assert post(world.base, "/api/v1/parcels", world.keys["merchant"], parcel) in (200, 201)
    assert post(world.base, "/api/v1/webhooks", world.keys["merchant"], hook) == 201


@contextlib.contextmanager
def live_world(url: str, log: Path) -> Iterator[World]:
    """gunicorn (one worker, its access lines and errors logged to ``log``) on a seeded database; /metrics
    wants its token as in production. Webhook hosts are not resolved (the probe must not depend on DNS)."""
    keys = role_keys(url)
    env = {
        "SILKWAY_ACCESS_LOG": "1",
        "SILKWAY_METRICS_TOKEN": METRICS_TOKEN,
        "SILKWAY_ALLOW_PRIVATE_WEBHOOK_TARGETS": "true",
    }
    with gunicorn(url, workers=1, extra_env=env, log_path=log) as server:
        world = World(server.base, keys)
        seed(world)
        yield world


def role_headers(world: World, role: str) -> dict[str, str]:
    """The headers a role sends: none for anonymous, else its key."""
    return {} if role == "anonymous" else {"Authorization": f"Bearer {world.keys[role]}"}


def access_log_figures(log: Path) -> tuple[int, int, int]:
    """(requests answered, of which 5xx, lines saying "database is locked") in a gunicorn log."""
    requests = server_errors = locked = 0
    for line in log.read_text(errors="replace").splitlines():
        locked += "database is locked" in line
        answered = ACCESS_LINE.search(line)
        if answered:
            requests += 1
            server_errors += answered.group(1).startswith("5")
    return requests, server_errors, locked
