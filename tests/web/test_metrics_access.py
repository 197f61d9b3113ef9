"""/metrics is for operators: a bearer token when SILKWAY_METRICS_TOKEN is set, else loopback clients only."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from web import create_app

TOKEN = "s3cret-metrics-token"
OUTSIDE = {"REMOTE_ADDR": "203.0.113.7"}


@pytest.fixture
def make_app(db_url: str) -> Iterator[Callable[..., Flask]]:
    apps: list[Flask] = []

    def _make(**config: Any) -> Flask:
        base = {"TESTING": True, "DATABASE_URL": db_url, "RATELIMIT_ENABLED": False, "SECRET_KEY": "t"}
        apps.append(create_app({**base, **config}))
        return apps[-1]

    yield _make
    for application in apps:
        application.extensions["silkway.db"].dispose()


def _problem(resp, status: int) -> None:  # type: ignore[no-untyped-def]
    assert resp.status_code == status
    assert resp.mimetype == "application/problem+json" and resp.get_json()["status"] == status
    assert "silkway_" not in resp.get_data(as_text=True)


def _served(resp) -> bool:  # type: ignore[no-untyped-def]
    return resp.status_code == 200 and "silkway_http_request_seconds" in resp.get_data(as_text=True)


@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
def test_without_a_token_loopback_clients_read_the_metrics(make_app, address):
    client = make_app().test_client()
    client.get("/healthz")
    assert _served(client.get("/metrics", environ_base={"REMOTE_ADDR": address}))


@pytest.mark.parametrize("address", ["203.0.113.7", "10.0.0.5", "::2", "fe80::1"])
def test_without_a_token_other_clients_are_refused(make_app, address):
    _problem(make_app().test_client().get("/metrics", environ_base={"REMOTE_ADDR": address}), 403)


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Forwarded-For": "203.0.113.7"},
        {"X-Forwarded-For": "127.0.0.1, 203.0.113.7"},
        {"X-Forwarded-For": "garbage"},
        {"X-Real-IP": "203.0.113.7"},
        {"Forwarded": "for=203.0.113.7;proto=https"},
        {"Forwarded": 'for="[2001:db8::1]:4711"'},
        {"Forwarded": "for=_hidden"},
    ],
)
@pytest.mark.parametrize("hops", [0, 1, 2])
def test_a_request_forwarded_from_outside_is_not_loopback(make_app, headers, hops):
    """A proxy on this machine forwarding a client from elsewhere: the peer is loopback, the client not."""
    client = make_app(PROXY_HOPS=hops).test_client()
    _problem(client.get("/metrics", headers=headers, environ_base={"REMOTE_ADDR": "127.0.0.1"}), 403)


@pytest.mark.parametrize("hops", [0, 1])
def test_a_local_client_through_a_local_proxy_is_loopback(make_app, hops):
    client = make_app(PROXY_HOPS=hops).test_client()
    resp = client.get(
        "/metrics", headers={"X-Forwarded-For": "127.0.0.1"}, environ_base={"REMOTE_ADDR": "127.0.0.1"}
    )
    assert _served(resp)


def test_a_forged_loopback_header_from_outside_is_refused(make_app):
    client = make_app(PROXY_HOPS=1).test_client()
    resp = client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}, environ_base=OUTSIDE)
    _problem(resp, 403)


def test_with_a_token_only_the_token_reads_the_metrics(make_app):
    client = make_app(METRICS_TOKEN=TOKEN).test_client()
    assert _served(client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, environ_base=OUTSIDE))
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"},
                    {"Authorization": f"Bearer {TOKEN}x"}):
        resp = client.get("/metrics", headers=headers)  # loopback is not enough once a token is set
        _problem(resp, 401)
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_token_comes_from_the_environment(db_url, monkeypatch):
    monkeypatch.setenv("SILKWAY_METRICS_TOKEN", "12345")  # looks like JSON: parsed as a number
    application = create_app({"TESTING": True, "DATABASE_URL": db_url, "RATELIMIT_ENABLED": False})
    try:
        client = application.test_client()
        _problem(client.get("/metrics"), 401)
        assert _served(client.get("/metrics", headers={"Authorization": "Bearer 12345"}))
    finally:
        application.extensions["silkway.db"].dispose()


def test_the_openapi_document_says_metrics_needs_the_bearer(client):
    operation = client.get("/api/openapi.json").get_json()["paths"]["/metrics"]["get"]
    assert {"bearer": []} in operation["security"]
    assert {"401", "403"} <= set(operation["responses"])
