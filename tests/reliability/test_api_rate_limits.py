"""Rate limits on the authenticated APIs: a budget per API key, and one per address for failed keys."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
from flask import Flask

from tests.conftest import bearer
from tracking.accounts import create_key, ensure_carrier
from web import create_app

URL = "/api/v1/carriers/acme_post/events"
EVENT = {
    "tracking_number": "RX747628194CN",
    "status": "in_transit",
    "substatus": "departed",
    "occurred_at": "2026-10-20T08:31:00+08:00",
}


@pytest.fixture
def limited_app(db_url: str) -> Iterator[Flask]:
    """The app with rate limits on, small budgets and per-process counters."""
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": db_url,
            "SECRET_KEY": "test",
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
            "RATELIMIT_API_KEY": "5/minute",
            "RATELIMIT_API_IP": "100/minute",
            "RATELIMIT_API_AUTH_FAILURES": "3/minute",
        }
    )
    yield app
    app.extensions["silkway.db"].dispose()


def _carrier_keys(app: Flask, count: int) -> list[str]:
    with app.app_context():
        session = app.extensions["silkway.db"].session()
        carrier = ensure_carrier(session, "acme_post", "canonical")
        keys = [create_key(session, "carrier", carrier=carrier) for _ in range(count)]
        session.commit()
        session.close()
    return keys


def _push(client, key: str, address: str = "127.0.0.1"):  # type: ignore[no-untyped-def]
    return client.post(
        URL,
        data=orjson.dumps({"events": [EVENT]}),
        content_type="application/json",
        headers=bearer(key),
        environ_base={"REMOTE_ADDR": address},
    )


def test_a_key_over_its_budget_gets_429_problem_while_another_key_goes_on(limited_app):
    first, second = _carrier_keys(limited_app, 2)
    client = limited_app.test_client()
    assert [_push(client, first).status_code for _ in range(5)] == [200] * 5
    refused = _push(client, first)
    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json"
    assert refused.get_json()["status"] == 429
    assert _push(client, second).status_code == 200


def test_an_address_guessing_keys_is_cut_off_after_a_few_failures(limited_app):
    (good,) = _carrier_keys(limited_app, 1)
    client = limited_app.test_client()
    assert [_push(client, f"guess-{i}").status_code for i in range(3)] == [401] * 3
    assert _push(client, "guess-4").status_code == 429
    assert _push(client, good).status_code == 429  # this address spent its failure budget
    assert _push(client, good, address="127.0.0.2").status_code == 200  # another address did not
