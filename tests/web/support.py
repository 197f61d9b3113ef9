"""What the merchant, webhook and dashboard tests set up alike: parcels a merchant registers through
the merchants' API, and scans a carrier posts through the carriers' API."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import orjson
from flask.testing import FlaskClient

from tracking.types import utcnow

PARCELS = "/api/v1/parcels"
CARRIER_EVENTS = "/api/v1/carriers/acme_post/events"
HOOKS = "/api/v1/webhooks"
RECEIVER = "http://127.0.0.1:9/hooks"
SHENZHEN = {"name": "Shenzhen", "country": "CN"}


def parcel(number: str = "RX747628194CN", reference: str = "ORDER-1", **extra: Any) -> dict[str, Any]:
    """A parcel as a merchant registers it, Shenzhen to Moscow by standard air; ``extra`` overrides."""
    body: dict[str, Any] = {
        "identifiers": [number],
        "origin": "Shenzhen",
        "destination": "Moscow",
        "service": "standard_air",
        "reference": reference,
    }
    body.update(extra)
    return body


def register_parcels(client: FlaskClient, headers: dict[str, str], *numbers: str) -> None:
    """Register one parcel per number (referenced "ORDER-<number>") and insist that it worked."""
    body = {"parcels": [parcel(number, f"ORDER-{number}") for number in numbers]}
    resp = client.post(PARCELS, json=body, headers=headers)
    assert resp.status_code == 201, resp.get_json()


def ago(**delta: float) -> datetime:
    """The moment that long before now: ``ago(days=9)``."""
    return utcnow() - timedelta(**delta)


def post_scan(
    client: FlaskClient,
    headers: dict[str, str],
    number: str,
    status: str = "in_transit",
    substatus: str = "departed",
    at: datetime | None = None,
    location: dict[str, str] = SHENZHEN,
    **extra: Any,
) -> None:
    """Post one scan as carrier acme_post (``at`` defaults to an hour ago) and insist that it was taken;
    ``extra`` adds canonical fields (``linked_numbers=[...]``)."""
    event = {
        "tracking_number": number,
        "status": status,
        "substatus": substatus,
        "occurred_at": (at or ago(hours=1)).isoformat(),
        "location": location,
        **extra,
    }
    resp = client.post(CARRIER_EVENTS, json={"events": [event]}, headers=headers)
    assert resp.status_code == 200, resp.get_json()


def push_events(client: FlaskClient, key: str, carrier: str, events: list[dict[str, Any]]) -> None:
    """Post canonical events as ``carrier`` with its key; every one must be accepted."""
    resp = client.post(
        f"/api/v1/carriers/{carrier}/events",
        data=orjson.dumps({"events": events}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert resp.status_code == 200, resp.get_json()


def subscribe(client: FlaskClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    """Subscribe a webhook (to RECEIVER unless ``url`` is given); the created subscription."""
    body.setdefault("url", RECEIVER)
    resp = client.post(HOOKS, json=body, headers=headers)
    assert resp.status_code == 201, resp.get_json()
    created: dict[str, Any] = resp.get_json()
    return created
