"""Signed pushes: a carrier with a secret must send Silkway-Signature (17TRACK: its sign header)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.carriers.samples import sample_bytes
from tests.conftest import bearer
from tracking import models
from web.access.signing import SIGNATURE_HEADER, signature_header

URL = "/api/v1/carriers/{}/events"
SECRET_URL = "/api/v1/operators/carriers/{}/signing-secret"
BODY = orjson.dumps(
    {
        "events": [
            {
                "tracking_number": "RX747628194CN",
                "status": "in_transit",
                "substatus": "departed",
                "occurred_at": "2026-10-20T08:31:00+08:00",
                "location": {"name": "Shenzhen", "country": "CN"},
            }
        ]
    }
)


@pytest.fixture
def operator(make_key: Callable[..., str]) -> dict[str, str]:
    return bearer(make_key("operator"))


@pytest.fixture
def carrier_key(make_key: Callable[..., str]) -> dict[str, str]:
    return bearer(make_key("carrier", "acme_post"))


@pytest.fixture
def set_secret(client: FlaskClient, operator: dict[str, str]) -> Callable[..., str]:
    def _set(carrier: str = "acme_post", **body: Any) -> str:
        resp = client.post(SECRET_URL.format(carrier), json=body, headers=operator)
        assert resp.status_code == 200, resp.get_json()
        assert resp.headers["Cache-Control"] == "no-store"
        secret: str = resp.get_json()["secret"]
        return secret

    return _set


def push(
    client: FlaskClient,
    key: dict[str, str],
    signature: str | None,
    body: bytes = BODY,
    carrier: str = "acme_post",
) -> Any:
    headers = dict(key)
    if signature is not None:
        headers[SIGNATURE_HEADER] = signature
    return client.post(URL.format(carrier), data=body, content_type="application/json", headers=headers)


def stored(session: Session) -> tuple[int, int]:
    payloads = session.scalar(select(func.count()).select_from(models.RawPayload))
    events = session.scalar(select(func.count()).select_from(models.ScanEvent))
    session.rollback()  # end the read: on SQLite every transaction holds the write lock
    return payloads or 0, events or 0


def test_correctly_signed_push_is_accepted(client, carrier_key, set_secret):
    secret = set_secret()
    resp = push(client, carrier_key, signature_header(BODY, secret))
    assert resp.status_code == 200 and resp.get_json()["accepted"] == 1


def test_push_without_signature_is_refused_naming_the_header_and_nothing_is_stored(
    client, carrier_key, set_secret, session
):
    set_secret()
    resp = push(client, carrier_key, None)
    assert resp.status_code == 401
    assert resp.content_type == "application/problem+json"
    problem = resp.get_json()
    assert problem["title"] == "Missing Signature" and SIGNATURE_HEADER in problem["detail"]
    assert problem["errors"][0]["field"] == SIGNATURE_HEADER
    assert stored(session) == (0, 0)
    assert client.get("/api/v1/parcels/RX747628194CN").status_code == 404


@pytest.mark.parametrize("header", ["garbage", "t=abc,v1=00", "t=1700000000", "v1=abcdef"])
def test_malformed_signature_header_is_refused(client, carrier_key, set_secret, session, header):
    set_secret()
    resp = push(client, carrier_key, header)
    assert resp.status_code == 401 and SIGNATURE_HEADER in resp.get_json()["detail"]
    assert stored(session) == (0, 0)


def test_signature_made_with_another_secret_is_refused(client, carrier_key, set_secret, session):
    set_secret()
    resp = push(client, carrier_key, signature_header(BODY, "whsec_not-the-carriers-secret"))
    assert resp.status_code == 401 and resp.get_json()["title"] == "Invalid Signature"
    assert stored(session) == (0, 0)


def test_signature_of_another_body_is_refused(client, carrier_key, set_secret, session):
    secret = set_secret()
    tampered = BODY.replace(b"in_transit", b"delivered")
    resp = push(client, carrier_key, signature_header(BODY, secret), body=tampered)
    assert resp.status_code == 401
    assert stored(session) == (0, 0)


def test_signature_older_than_the_replay_window_is_refused_as_stale(client, carrier_key, set_secret, session):
    secret = set_secret()
    old = int(time.time()) - 301
    resp = push(client, carrier_key, signature_header(BODY, secret, timestamp=old))
    assert resp.status_code == 401
    problem = resp.get_json()
    assert problem["title"] == "Stale Signature" and "300 seconds" in problem["detail"]
    assert stored(session) == (0, 0)


def test_header_with_one_stale_and_one_good_signature_set_accepts_any_matching_v1(
    client, carrier_key, set_secret
):
    new = set_secret()
    header = signature_header(BODY, ["whsec_the-old-secret-being-retired", new])
    assert push(client, carrier_key, header).status_code == 200


def test_previous_secret_keeps_working_during_the_grace_period_of_a_rotation(client, carrier_key, set_secret):
    old = set_secret()
    new = set_secret(grace_seconds=3600)
    assert new != old
    assert push(client, carrier_key, signature_header(BODY, old)).status_code == 200
    assert push(client, carrier_key, signature_header(BODY, new)).status_code == 200


def test_previous_secret_is_refused_after_a_rotation_without_grace(client, carrier_key, set_secret):
    old = set_secret()
    set_secret()
    assert push(client, carrier_key, signature_header(BODY, old)).status_code == 401


def test_carrier_without_a_secret_needs_no_signature(client, carrier_key):
    assert push(client, carrier_key, None).status_code == 200


def test_removing_the_secret_stops_requiring_signatures(client, carrier_key, set_secret, operator):
    set_secret()
    assert client.delete(SECRET_URL.format("acme_post"), headers=operator).status_code == 204
    assert push(client, carrier_key, None).status_code == 200


def test_track17_carrier_with_a_secret_is_checked_with_its_sign_header(client, make_key, set_secret, session):
    key = bearer(make_key("carrier", "track17", fmt="track17"))
    api_key = set_secret("track17", secret="17track-api-key-0123456789")
    body = sample_bytes("17track_v2_webhook_TRACKING_UPDATED.json")
    refused = client.post(URL.format("track17"), data=body, content_type="application/json", headers=key)
    assert refused.status_code == 401 and refused.get_json()["errors"][0]["field"] == "sign"
    assert stored(session) == (0, 0)
    sign = hashlib.sha256(body + b"/" + api_key.encode()).hexdigest()
    accepted = client.post(
        URL.format("track17"), data=body, content_type="application/json", headers={**key, "sign": sign}
    )
    assert accepted.status_code == 200, accepted.get_json()
