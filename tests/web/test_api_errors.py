"""Every error on /api/ is problem+json, whatever raised it; over-long targets get the app's own 414."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask, abort
from sqlalchemy.exc import OperationalError

from tests.conftest import bearer
from web import create_app
from web.access.request_target import MAX_TARGET_BYTES


def _problem(resp, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert resp.status_code == status, resp.get_data(as_text=True)[:300]
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"].startswith("https://")
    return body


@pytest.fixture
def raising_app(app: Flask) -> Flask:
    """The app with three test-only API routes that fail the ways nothing public can be made to."""

    def unsupported() -> None:
        abort(415)

    def boom() -> None:
        raise RuntimeError("a bug")

    def database_gone() -> None:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    app.add_url_rule("/api/v1/test-errors/415", "test_415", unsupported, methods=["POST"])
    app.add_url_rule("/api/v1/test-errors/500", "test_500", boom)
    app.add_url_rule("/api/v1/test-errors/503", "test_503", database_gone)
    return app


def test_an_unknown_api_route_is_a_404_problem(client):
    assert "/api/v1/nowhere" in _problem(client.get("/api/v1/nowhere"), 404)["detail"]


def test_a_wrong_method_is_a_405_problem_with_allow(client):
    resp = client.put("/api/v1/tracking-numbers/RX747628194CN")
    _problem(resp, 405)
    assert "GET" in resp.headers["Allow"]


def test_a_body_too_large_is_a_413_problem_naming_the_limit(app, client, make_key):
    key = make_key("carrier", "acme_post")
    app.config["MAX_CONTENT_LENGTH"] = 1000
    resp = client.post(
        "/api/v1/carriers/acme_post/events",
        data=b"[" + b" " * 2000 + b"]",
        content_type="application/json",
        headers=bearer(key),
    )
    assert "1000 bytes" in _problem(resp, 413)["detail"]


def test_an_over_long_target_is_a_414_problem_naming_the_limit(client):
    body = _problem(client.get("/api/v1/parcels/" + "A" * MAX_TARGET_BYTES), 414)
    assert f"{MAX_TARGET_BYTES} bytes" in body["detail"]
    long_query = "/api/v1/tracking-numbers/RX747628194CN?x=" + "1" * MAX_TARGET_BYTES
    _problem(client.get(long_query), 414)
    _problem(client.get("/api/v1/nowhere/" + "é" * (MAX_TARGET_BYTES // 6 + 1)), 414)  # 6 bytes escaped


def test_a_target_at_the_limit_is_served(client):
    path = "/api/v1/tracking-numbers/RX747628194CN?pad="
    assert client.get(path + "1" * (MAX_TARGET_BYTES - len(path))).status_code == 200


def test_an_over_long_page_address_is_an_html_414_page(client):
    resp = client.get("/track/" + "A" * MAX_TARGET_BYTES, headers={"Accept-Language": "en"})
    assert resp.status_code == 414 and resp.mimetype == "text/html"
    assert "Address too long" in resp.get_data(as_text=True)
    elsewhere = client.get("/nowhere/" + "A" * MAX_TARGET_BYTES, headers={"Accept": "text/html"})
    assert elsewhere.status_code == 414 and elsewhere.mimetype == "text/html"


def test_an_unsupported_media_type_is_a_415_problem(raising_app):
    _problem(raising_app.test_client().post("/api/v1/test-errors/415", data=b"x"), 415)


def test_a_bug_is_a_500_problem(raising_app):
    body = _problem(raising_app.test_client().get("/api/v1/test-errors/500"), 500)
    assert "a bug" not in body["detail"]  # nothing of the exception leaks


def test_a_database_outage_is_a_503_problem_with_retry_after(raising_app):
    resp = raising_app.test_client().get("/api/v1/test-errors/503")
    _problem(resp, 503)
    assert resp.headers["Retry-After"] == "5"


@pytest.fixture
def limited_app(db_url: str) -> Iterator[Flask]:
    application = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": db_url,
            "SECRET_KEY": "test",
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
            "RATELIMIT_PUBLIC": "1/minute",
        }
    )
    yield application
    application.extensions["silkway.db"].dispose()


def test_too_many_requests_is_a_429_problem_with_retry_after(limited_app):
    client = limited_app.test_client()
    client.get("/api/v1/tracking-numbers/RX747628194CN")
    resp = client.get("/api/v1/tracking-numbers/RX747628194CN")
    _problem(resp, 429)
    assert int(resp.headers["Retry-After"]) > 0
