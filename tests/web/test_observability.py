"""Operators' view: /metrics, request ids and JSON logs without secrets, /healthz and /readyz."""

from __future__ import annotations

import json
import logging

import orjson

from tests.conftest import bearer
from web import create_app
from web.logs import JsonFormatter


def _push(client, key):
    event = {
        "tracking_number": "RX747628194CN",
        "status": "in_transit",
        "substatus": "departed",
        "occurred_at": "2026-10-20T08:31:00+08:00",
    }
    return client.post(
        "/api/v1/carriers/acme_post/events",
        data=orjson.dumps({"events": [event]}),
        content_type="application/json",
        headers=bearer(key),
    )


def test_metrics_count_ingested_events_and_time_requests(client, make_key):
    key = make_key("carrier", "acme_post")
    assert _push(client, key).status_code == 200
    body = client.get("/metrics").get_data(as_text=True)
    assert 'silkway_events_total{carrier="acme_post",outcome="accepted"}' in body
    assert "silkway_http_request_seconds_bucket" in body
    assert "silkway_webhook_backlog" in body


def test_every_response_carries_a_request_id_and_echoes_a_sane_one(client):
    generated = client.get("/healthz").headers["X-Request-ID"]
    assert len(generated) == 32
    assert client.get("/healthz", headers={"X-Request-ID": "abc12345-trace"}).headers["X-Request-ID"] == (
        "abc12345-trace"
    )
    assert client.get("/healthz", headers={"X-Request-ID": "x"}).headers["X-Request-ID"] != "x"


def test_access_log_is_json_and_never_holds_the_api_key(client, make_key):
    key = make_key("carrier", "acme_post")
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger, access = logging.getLogger("silkway"), logging.getLogger("silkway.access")
    # Other tests in this process may have configured logging differently (a quieter level, or a
    # logging.config call that disables existing loggers); this test is about the access log itself.
    saved = logger.level, access.disabled
    logger.setLevel(logging.INFO)
    access.disabled = False
    logger.addHandler(handler)
    try:
        _push(client, key)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        access.disabled = saved[1]
    lines = [JsonFormatter().format(r) for r in records]
    access = [json.loads(line) for line in lines if '"logger":"silkway.access"' in line]
    assert access and access[-1]["status"] == 200 and access[-1]["path"].endswith("/events")
    assert all(key not in line for line in lines)


def test_readyz_is_503_when_the_database_is_unreachable():
    app = create_app({"TESTING": True, "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"})
    resp = app.test_client().get("/readyz")
    assert resp.status_code == 503
    assert resp.content_type == "application/problem+json"
    assert app.test_client().get("/healthz").status_code == 200


def test_readyz_is_ok_with_a_database(client):
    assert client.get("/readyz").get_json() == {"status": "ok", "database": "ok"}


def _limited_app(db_url, hops):
    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": db_url,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_PUBLIC": "2/minute",
            "PROXY_HOPS": hops,
        }
    )


def test_behind_a_proxy_clients_are_told_apart_by_x_forwarded_for(db_url):
    client = _limited_app(db_url, 1).test_client()
    for address in ("203.0.113.5", "203.0.113.6"):
        codes = [
            client.get(
                "/api/v1/tracking-numbers/RX747628194CN", headers={"X-Forwarded-For": address}
            ).status_code
            for _ in range(3)
        ]
        assert codes == [200, 200, 429]


def test_without_proxy_hops_the_forwarded_header_is_not_trusted(db_url):
    client = _limited_app(db_url, 0).test_client()
    codes = [
        client.get(
            "/api/v1/tracking-numbers/RX747628194CN", headers={"X-Forwarded-For": f"203.0.113.{i}"}
        ).status_code
        for i in range(3)
    ]
    assert codes == [200, 200, 429]
