"""The operators' API: the unmapped-codes report and signing secrets, for operator keys only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.carriers.samples import sample_path
from tests.conftest import bearer

SAMPLE = sample_path("cainiao_global_detail_AE010698498.json")
REPORT = "/api/v1/operators/unmapped-codes"
SECRET = "/api/v1/operators/carriers/{}/signing-secret"


@pytest.fixture
def operator(make_key: Callable[..., str]) -> dict[str, str]:
    return bearer(make_key("operator"))


@pytest.fixture
def push_cainiao(client: FlaskClient, make_key: Callable[..., str]) -> Callable[..., Any]:
    key = bearer(make_key("carrier", "cainiao"))

    def _push(**renamed: str) -> None:
        body = SAMPLE.read_text(encoding="utf-8")
        for old, new in renamed.items():
            body = body.replace(f'"{old}"', f'"{new}"')
        resp = client.post(
            "/api/v1/carriers/cainiao/events",
            data=body.encode(),
            content_type="application/json",
            headers=key,
        )
        assert resp.status_code == 200, resp.get_json()

    return _push


def test_unmapped_codes_are_listed_most_frequent_first(client, operator, push_cainiao):
    push_cainiao(LH_ARRIVE="LH_TELEPORT")
    push_cainiao(LH_ARRIVE="LH_TELEPORT", LH_DEPART="LH_WORMHOLE")
    resp = client.get(REPORT, headers=operator)
    assert resp.status_code == 200
    codes = resp.get_json()["codes"]
    assert [(c["carrier"], c["code"], c["count"]) for c in codes] == [
        ("cainiao", "LH_TELEPORT", 2),
        ("cainiao", "LH_WORMHOLE", 1),
    ]
    assert codes[0]["format"] == "cainiao" and codes[0]["first_seen"] <= codes[0]["last_seen"]


def test_unmapped_codes_can_be_filtered_by_carrier(client, operator, push_cainiao, make_key):
    push_cainiao(LH_ARRIVE="LH_TELEPORT")
    make_key("carrier", "acme_post")
    assert client.get(REPORT + "?carrier=acme_post", headers=operator).get_json() == {"codes": []}
    assert len(client.get(REPORT + "?carrier=cainiao", headers=operator).get_json()["codes"]) == 1


def test_unmapped_codes_of_an_unknown_carrier_is_404_naming_the_parameter(client, operator):
    resp = client.get(REPORT + "?carrier=nobody", headers=operator)
    assert resp.status_code == 404 and resp.get_json()["errors"][0]["field"] == "carrier"


def test_operator_endpoints_need_a_key(client):
    assert client.get(REPORT).status_code == 401
    assert client.post(SECRET.format("cainiao")).status_code == 401


@pytest.mark.parametrize(("role", "owner"), [("carrier", "cainiao"), ("merchant", "Shenzhen Gadgets")])
def test_carrier_and_merchant_keys_are_forbidden(client, make_key, role, owner):
    key = bearer(make_key(role, owner))
    report = client.get(REPORT, headers=key)
    assert report.status_code == 403 and "operator" in report.get_json()["detail"]
    assert client.post(SECRET.format("cainiao"), json={}, headers=key).status_code == 403


def test_new_signing_secret_is_generated_and_shown_once(client, operator, make_key):
    make_key("carrier", "acme_post")
    resp = client.post(SECRET.format("acme_post"), headers=operator)
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    body = resp.get_json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    assert body["header"] == "Silkway-Signature" and body["previous_secret_valid_until"] is None


def test_rotation_with_grace_says_until_when_the_old_secret_works(client, operator, make_key):
    make_key("carrier", "acme_post")
    client.post(SECRET.format("acme_post"), headers=operator)
    resp = client.post(SECRET.format("acme_post"), json={"grace_seconds": 3600}, headers=operator)
    assert resp.get_json()["previous_secret_valid_until"] is not None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"secret": "short"}, "secret"),
        ({"secret": 12345}, "secret"),
        ({"grace_seconds": -1}, "grace_seconds"),
    ],
)
def test_bad_signing_secret_request_is_400_naming_the_field(client, operator, make_key, body, field):
    make_key("carrier", "acme_post")
    resp = client.post(SECRET.format("acme_post"), json=body, headers=operator)
    assert resp.status_code == 400 and resp.content_type == "application/problem+json"
    assert resp.get_json()["errors"][0]["field"] == field


def test_signing_secret_body_that_is_not_json_is_400(client, operator, make_key):
    make_key("carrier", "acme_post")
    resp = client.post(
        SECRET.format("acme_post"), data=b"{nope", content_type="application/json", headers=operator
    )
    assert resp.status_code == 400 and "JSON" in resp.get_json()["detail"]


def test_signing_secret_of_an_unknown_carrier_is_404(client, operator):
    assert client.post(SECRET.format("nobody"), headers=operator).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [({"secret": "s" * 20 + "\x00"}, "secret"), ({"secret": "s" * 20, "no\x00te": 1}, "no\\0te")],
)
def test_a_nul_in_a_signing_secret_body_is_a_400_naming_it_and_nothing_changes(
    client, operator, make_key, body, field
):
    # The probe found a secret holding NUL stored on SQLite and a 500 on PostgreSQL.
    carrier = bearer(make_key("carrier", "acme_post"))
    resp = client.post(SECRET.format("acme_post"), json=body, headers=operator)
    assert resp.status_code == 400, resp.get_json()
    assert resp.get_json()["errors"][0]["field"] == field
    scan = {"tracking_number": "RX747628194CN", "status": "in_transit", "occurred_at": "2026-10-20T08:31:00Z"}
    unsigned = client.post("/api/v1/carriers/acme_post/events", json={"events": [scan]}, headers=carrier)
    assert unsigned.status_code == 200, unsigned.get_json()  # still no secret: unsigned pushes pass


def test_a_whole_number_of_grace_seconds_written_as_a_float_is_taken(client, operator, make_key):
    make_key("carrier", "acme_post")
    assert client.post(SECRET.format("acme_post"), json={}, headers=operator).status_code == 200
    resp = client.post(SECRET.format("acme_post"), json={"grace_seconds": 68.0}, headers=operator)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["previous_secret_valid_until"] is not None
    half = client.post(SECRET.format("acme_post"), json={"grace_seconds": 68.5}, headers=operator)
    assert half.status_code == 400 and half.get_json()["errors"][0]["field"] == "grace_seconds"
