"""RateLimit-Policy and RateLimit (draft-ietf-httpapi-ratelimit-headers) on every limited door, and
Retry-After on every 429 and 503."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from tests.conftest import bearer
from web import create_app

EN = {"Accept-Language": "en"}
Limited = Callable[..., Flask]


def parse(header: str) -> dict[str, dict[str, int]]:
    """A structured-field list of ``"name";key=int`` items, by name."""
    items: dict[str, dict[str, int]] = {}
    for item in header.split(","):
        name, *params = item.strip().split(";")
        assert name.startswith('"') and name.endswith('"'), header
        items[name.strip('"')] = {k: int(v) for k, v in (p.split("=", 1) for p in params)}
    return items


def policies(resp: Any) -> dict[str, dict[str, int]]:
    return parse(resp.headers["RateLimit-Policy"])


def remaining(resp: Any) -> dict[str, dict[str, int]]:
    return parse(resp.headers["RateLimit"])


@pytest.fixture
def limited(db_url: str) -> Iterator[Limited]:
    apps: list[Flask] = []

    def _make(**budgets: str) -> Flask:
        config: dict[str, Any] = {
            "TESTING": True,
            "DATABASE_URL": db_url,
            "SECRET_KEY": "test",
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
        }
        apps.append(create_app({**config, **{f"RATELIMIT_{k.upper()}": v for k, v in budgets.items()}}))
        return apps[-1]

    yield _make
    for application in apps:
        application.extensions["silkway.db"].dispose()


def assert_refused(resp: Any, policy: str) -> None:
    assert resp.status_code == 429
    left = remaining(resp)[policy]
    assert left["r"] == 0 and 0 < int(resp.headers["Retry-After"]) <= 60 and left["t"] <= 60
    assert policy in policies(resp)


def test_the_public_api_names_its_budget_and_counts_it_down(limited, scan):
    scan("RX747628194CN")
    client = limited(public="3/minute").test_client()
    answers = [client.get("/api/v1/parcels/RX747628194CN") for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert policies(answers[0])["public"] == {"q": 3, "w": 60}
    assert [remaining(r)["public"]["r"] for r in answers[:3]] == [2, 1, 0]
    assert 0 < remaining(answers[0])["public"]["t"] <= 60
    assert_refused(answers[3], "public")
    assert answers[3].mimetype == "application/problem+json"


def test_the_pages_carry_the_headers_and_a_refused_page_says_when(limited):
    client = limited(public="2/minute").test_client()
    answers = [client.get("/", headers=EN) for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 429]
    assert policies(answers[0])["public"] == {"q": 2, "w": 60}
    assert_refused(answers[2], "public")
    assert answers[2].mimetype == "text/html"


def test_a_door_that_looks_numbers_up_shows_the_misses_budget(limited):
    client = limited(public="1000/minute", misses="2/minute;50/day").test_client()
    first = client.get("/api/v1/parcels/LP00000000000001")
    assert first.status_code == 404
    assert policies(first) == {
        "public-misses-minute": {"q": 2, "w": 60},
        "public": {"q": 1000, "w": 60},
        "public-misses-day": {"q": 50, "w": 86400},
    }
    assert (
        remaining(first)["public-misses-minute"]["r"] == 1
        and remaining(first)["public-misses-day"]["r"] == 49
    )
    assert client.get("/track/LP00000000000002", headers=EN).status_code == 404
    refused = client.get("/track/LP00000000000003", headers=EN)
    assert_refused(refused, "public-misses-minute")
    assert remaining(refused)["public"]["r"] == 997  # the page itself was still within its budget


def test_keyed_routes_name_the_key_and_address_budgets(limited, make_key):
    key = bearer(make_key("merchant", "Shop One"))
    client = limited(api_key="2/minute", api_ip="100/minute").test_client()
    answers = [client.get("/api/v1/parcels", headers=key) for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 429]
    assert {"api-key", "api-address", "api-auth-failures"} <= set(policies(answers[0]))
    assert policies(answers[0])["api-key"] == {"q": 2, "w": 60}
    assert remaining(answers[1])["api-key"]["r"] == 0 and remaining(answers[1])["api-address"]["r"] == 98
    assert_refused(answers[2], "api-key")


def test_guessing_keys_is_refused_with_the_failures_budget(limited):
    client = limited(api_auth_failures="2/minute").test_client()
    answers = [client.get("/api/v1/parcels", headers=bearer("sw_mer_wrong")) for _ in range(3)]
    assert [r.status_code for r in answers] == [401, 401, 429]
    assert_refused(answers[2], "api-auth-failures")


def test_the_subscriptions_door_names_its_budgets(limited, scan):
    scan("RX747628194CN")
    client = limited(subscribe="2/hour", subscribe_address="5/hour;9/day").test_client()
    url, body = "/api/v1/parcels/RX747628194CN/subscriptions", {"language": "en"}
    answers = [client.post(url, json={**body, "email": f"shopper{i}@example.com"}) for i in range(3)]
    assert [r.status_code for r in answers] == [202, 202, 429]
    assert policies(answers[0])["subscribe-client"] == {"q": 2, "w": 3600}
    assert policies(answers[0])["subscribe-address-day"] == {"q": 9, "w": 86400}
    assert remaining(answers[1])["subscribe-client"]["r"] == 0
    assert answers[2].status_code == 429 and remaining(answers[2])["subscribe-client"]["r"] == 0
    assert 0 < int(answers[2].headers["Retry-After"]) <= 3600


def test_routes_without_limits_carry_no_limit_headers(limited):
    resp = limited().test_client().get("/healthz")
    assert (
        resp.status_code == 200 and "RateLimit" not in resp.headers and "RateLimit-Policy" not in resp.headers
    )


@pytest.mark.parametrize(("status", "retry"), [(503, "5"), (429, "60")])
def test_every_429_and_503_carries_retry_after(limited, status, retry):
    app = limited()
    app.add_url_rule("/bare", "bare", lambda: ("", status))
    resp = app.test_client().get("/bare")
    assert resp.status_code == status and resp.headers["Retry-After"] == retry
