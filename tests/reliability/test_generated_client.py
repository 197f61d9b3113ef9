"""A Python client generated from the live /api/openapi.json with openapi-python-client, without a warning,
drives a merchant's day against a live gunicorn on 127.0.0.1: register parcels, list and filter them,
quote, subscribe a webhook, receive a delivery and read the delivery log."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from urllib.request import Request, urlopen

import orjson
import pytest
from standardwebhooks import Webhook

from tests.reliability.support import carrier_key, get, gunicorn
from tests.support.webhook_receiver import webhook_receiver
from tracking.accounts import create_key, ensure_merchant
from tracking.db import make_engine, make_session_factory
from tracking.types import utcnow
from web import create_app
from web.worker.merchant_jobs import process_outbox_job

PACKAGE = "silkway_client"
NUMBERS = ("RX747628194CN", "RA123456785CN")


def merchant_key(url: str) -> str:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            key = create_key(session, "merchant", merchant=ensure_merchant(session, "Generated Shop"))
            session.commit()
    finally:
        engine.dispose()
    return key


def generate(base: str, into: Path) -> None:
    """Generate the client from the server's document; openapi-python-client must not warn."""
    status, document, _ = get(base + "/api/openapi.json")
    assert status == 200
    (into / "openapi.json").write_bytes(document)
    bin_dir = Path(sys.executable).parent  # its post-hooks run ruff, which is in the test extra
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    command = [str(bin_dir / "openapi-python-client"), "generate", "--path", "openapi.json", "--meta", "none"]
    done = subprocess.run(
        [*command, "--output-path", PACKAGE], cwd=into, env=env, capture_output=True, text=True, timeout=120
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "warning" not in output.lower() and "error" not in output.lower(), output
    assert (into / PACKAGE / "api" / "merchants").is_dir()


@pytest.fixture
def generated(tmp_path: Path) -> Iterator[Path]:
    """A directory the generated package goes into, importable for the test only."""
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
        del sys.modules[name]


def api(name: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.{name}")


def push_scan(base: str, key: str, number: str) -> None:
    event = {
        "tracking_number": number,
        "status": "in_transit",
        "substatus": "departed",
        "occurred_at": (utcnow() - timedelta(hours=1)).isoformat(),
    }
    request = Request(
        base + "/api/v1/carriers/acme_post/events",
        data=orjson.dumps({"events": [event]}),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urlopen(request, timeout=10) as resp:
        assert resp.status == 200


def deliver_webhooks(db_url: str) -> None:
    """What the scheduler's outbox job does, in this process, with the production sender."""
    app = create_app(
        {
            "DATABASE_URL": db_url,
            "SECRET_KEY": "t",
            "LOG_LEVEL": "ERROR",
            "WEBHOOK_SENDER": "urllib",
            "ALLOW_PRIVATE_WEBHOOK_TARGETS": True,
        }
    )
    try:
        assert process_outbox_job(app, utcnow()).delivered == 1
    finally:
        app.extensions["silkway.db"].dispose()


@pytest.mark.slow
def test_a_generated_client_drives_a_merchants_day(db_url: str, generated: Path) -> None:
    key, carrier = merchant_key(db_url), carrier_key(db_url)
    env = {"SILKWAY_ALLOW_PRIVATE_WEBHOOK_TARGETS": "true"}
    with (
        webhook_receiver() as receiver,
        gunicorn(db_url, extra_env=env) as server,
    ):
        generate(server.base, generated)
        models = api("models")
        client = api("client").AuthenticatedClient(
            base_url=server.base, token=key, raise_on_unexpected_status=True
        )
        ship_at = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
        batch = models.RegistrationBatch(
            parcels=[
                models.ParcelRegistration(
                    identifiers=[number],
                    origin="Shenzhen",
                    destination="Москва",
                    service="standard_air",
                    reference=f"ORDER-{i}",
                    ship_at=ship_at,
                )
                for i, number in enumerate(NUMBERS)
            ]
        )
        registered = api("api.merchants.post_api_v1_parcels").sync(client=client, body=batch)
        assert isinstance(registered, models.RegistrationResult)
        assert [p.tracking_number for p in registered.parcels] == list(NUMBERS)
        assert all(p.created and p.destination == "ru_moscow" for p in registered.parcels)

        hook = api("api.merchants.post_api_v1_webhooks").sync(
            client=client, body=models.WebhookIn(url=receiver.url, description="orders")
        )
        assert isinstance(hook, models.WebhookCreated) and hook.secret.startswith("whsec_")
        listed = api("api.merchants.get_api_v1_webhooks").sync(client=client)
        assert [w.id for w in listed.webhooks] == [hook.id]

        push_scan(server.base, carrier, NUMBERS[0])
        in_transit = api("api.merchants.get_api_v1_parcels").sync(client=client, status="in_transit")
        assert [p.tracking_number for p in in_transit.parcels] == [NUMBERS[0]]
        assert in_transit.next_cursor is None
        first = api("api.merchants.get_api_v1_parcels").sync(client=client, limit=1)
        rest = api("api.merchants.get_api_v1_parcels").sync(client=client, limit=1, cursor=first.next_cursor)
        assert {p.tracking_number for p in first.parcels + rest.parcels} == set(NUMBERS)
        detail = api("api.merchants.get_api_v1_merchant_parcels_tracking_number").sync(
            NUMBERS[0], client=client
        )
        assert detail.reference == "ORDER-0" and detail.events[0].substatus.value == "departed"

        quote = models.QuoteIn(
            origin="Shenzhen", destination="Moscow", service="standard_air", ship_at=ship_at
        )
        quotes = api("api.merchants.post_api_v1_eta_quotes").sync(
            client=client, body=models.QuoteRequest(quotes=[quote, quote])
        )
        assert isinstance(quotes, models.QuotesOut) and len(quotes.quotes) == 2
        assert quotes.quotes[0].ship_at == ship_at and quotes.quotes[0].route

        deliver_webhooks(db_url)
        [(headers, body)] = receiver.received
        assert Webhook(hook.secret).verify(body, headers)["data"]["parcel"]["tracking_number"] == NUMBERS[0]
        log = api("api.merchants.get_api_v1_webhooks_subscription_id_deliveries").sync(hook.id, client=client)
        assert [(d.event_id, d.succeeded, d.status_code) for d in log.deliveries] == [
            (headers["webhook-id"], True, 204)
        ]
        assert log.deliveries[0].state.value == "delivered"
