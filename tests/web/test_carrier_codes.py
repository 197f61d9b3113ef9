"""Carrier codes are slugs as AfterShip spells them (acme-express, 4px): one pattern for CLI, HTTP, docs."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import orjson
import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.conftest import bearer
from tracking import models
from tracking.accounts import CARRIER_CODE_REGEX, is_carrier_code

NUMBER = "RX747628194CN"
GOOD = ["acme-express", "4px", "russian-post", "china-ems", "acme_post", "ab", "a1-b2_c3", "x" * 40, "7-"]
BAD = [
    "ACME-EXPRESS",  # upper case
    "Acme",
    "acme express",  # a space
    "a",  # 1 character
    "x" * 41,  # 41 characters
    " acme",  # leading and trailing junk
    "acme ",
    "acme\n",
    "\tacme",
    "acme!",
    "!acme",
    "acme.express",
    "акме",
]


def scan(number: str = NUMBER) -> dict[str, Any]:
    return {
        "tracking_number": number,
        "status": "in_transit",
        "substatus": "departed",
        "occurred_at": "2026-10-20T08:31:00+08:00",
        "location": {"name": "Shenzhen", "country": "CN"},
        "raw_code": "SC_OUTBOUND_SUCCESS",
    }


def silkway(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=list(args))


def create_carrier_key(app: Flask, code: str) -> str:
    result = silkway(app, "keys", "create", "--role", "carrier", "--carrier", code)
    assert result.exit_code == 0, result.output
    return str(result.stdout.strip().splitlines()[-1])


def carriers(app: Flask) -> int:
    with app.app_context():
        session = app.extensions["silkway.db"].session()
        try:
            return session.scalar(select(func.count()).select_from(models.Carrier)) or 0
        finally:
            session.close()


@pytest.mark.parametrize("code", ["acme-express", "4px"])
def test_a_slug_code_gets_a_key_and_its_canonical_push_is_stored(app, client, code):
    key = create_carrier_key(app, code)
    resp = client.post(f"/api/v1/carriers/{code}/events", json={"events": [scan()]}, headers=bearer(key))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["accepted"] == 1
    view = client.get(f"/api/v1/parcels/{NUMBER}")
    assert view.status_code == 200
    [event] = view.get_json()["events"]
    assert (event["carrier"], event["status"], event["substatus"]) == (code, "in_transit", "departed")


@pytest.mark.parametrize("code", GOOD)
def test_every_well_formed_code_is_taken(app, client, code):
    key = create_carrier_key(app, code)
    resp = client.post(f"/api/v1/carriers/{code}/events", json={"events": [scan()]}, headers=bearer(key))
    assert resp.status_code == 200, resp.get_json()


def test_a_key_for_one_slug_code_cannot_push_for_another(app, client):
    key = create_carrier_key(app, "acme-express")
    create_carrier_key(app, "acme_express")
    resp = client.post("/api/v1/carriers/acme_express/events", json={"events": [scan()]}, headers=bearer(key))
    assert resp.status_code == 403


@pytest.mark.parametrize("code", BAD)
def test_keys_create_refuses_a_malformed_code_and_says_what_a_code_is(app, code):
    result = silkway(app, "keys", "create", "--role", "carrier", "--carrier", code)
    assert result.exit_code == 2, result.output
    assert "--carrier" in result.output and "2 to 40 lower-case letters" in result.output
    assert carriers(app) == 0


@pytest.mark.parametrize("code", ["ACME", "a", "x" * 41, "acme\n", "acme!"])
@pytest.mark.parametrize(
    "command",
    [
        ("import", "--carrier", "{code}", "{file}"),
        ("feeds", "add", "--carrier", "{code}", "--kind", "cursor", "--url", "http://127.0.0.1:9"),
        ("reprocess", "--carrier", "{code}"),
    ],
    ids=["import", "feeds-add", "reprocess"],
)
def test_import_feeds_and_reprocess_refuse_a_malformed_code(app, tmp_path, code, command):
    path = tmp_path / "events.json"
    path.write_bytes(orjson.dumps({"events": [scan()]}))
    args = [part.format(code=code, file=path) for part in command]
    result = silkway(app, *args)
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--carrier'" in result.output and "2 to 40" in result.output
    assert carriers(app) == 0


def test_import_and_reprocess_take_a_slug_code(app, client, tmp_path):
    create_carrier_key(app, "acme-express")
    path = tmp_path / "events.json"
    path.write_bytes(orjson.dumps({"events": [scan()]}))
    imported = silkway(app, "import", "--carrier", "acme-express", str(path))
    assert imported.exit_code == 0, imported.output
    assert "accepted=1" in imported.output
    assert client.get(f"/api/v1/parcels/{NUMBER}").get_json()["events"][0]["carrier"] == "acme-express"
    again = silkway(app, "reprocess", "--carrier", "acme-express")
    assert again.exit_code == 0, again.output
    assert "payloads=1" in again.output and "failed=0" in again.output


def test_feeds_add_registers_a_slug_code_and_lists_it(app):
    added = silkway(app, "feeds", "add", "--carrier", "4px", "--kind", "cursor", "--url", "http://127.0.0.1:9")
    assert added.exit_code == 0, added.output
    assert "registered carrier 4px" in added.output
    listed = silkway(app, "feeds", "list")
    assert listed.exit_code == 0 and listed.output.startswith("4px cursor http://127.0.0.1:9")


@pytest.mark.parametrize("code", BAD)
def test_a_malformed_code_in_the_push_path_is_a_400_naming_the_field(client, make_key, code):
    key = make_key("operator")
    resp = client.post(
        f"/api/v1/carriers/{quote(code, safe='')}/events",
        json={"events": [scan()]},
        headers=bearer(key),
    )
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert resp.content_type == "application/problem+json"
    body = resp.get_json()
    assert body["title"] == "Invalid Carrier Code"
    assert body["errors"] == [{"field": "carrier", "error": body["errors"][0]["error"]}]
    assert "2 to 40" in body["errors"][0]["error"]


def test_a_malformed_code_is_refused_without_a_key_too(client):
    resp = client.post("/api/v1/carriers/ACME/events", json={"events": [scan()]})
    assert resp.status_code == 400 and resp.get_json()["errors"][0]["field"] == "carrier"


def test_a_well_formed_unknown_code_is_still_a_404(client, make_key):
    operator = bearer(make_key("operator"))
    resp = client.post("/api/v1/carriers/no-such-carrier/events", json={"events": [scan()]}, headers=operator)
    assert resp.status_code == 404 and resp.get_json()["title"] == "Unknown Carrier"


def test_operator_endpoints_take_slug_codes_and_refuse_malformed_ones(app, client, make_key):
    operator = bearer(make_key("operator"))
    create_carrier_key(app, "acme-express")
    resp = client.post("/api/v1/operators/carriers/acme-express/signing-secret", json={}, headers=operator)
    assert resp.status_code == 200 and resp.get_json()["carrier"] == "acme-express"
    gone = client.delete("/api/v1/operators/carriers/acme-express/signing-secret", headers=operator)
    assert gone.status_code == 204
    bad = client.delete("/api/v1/operators/carriers/Acme/signing-secret", headers=operator)
    assert bad.status_code == 400 and bad.get_json()["errors"][0]["field"] == "code"
    report = client.get("/api/v1/operators/unmapped-codes?carrier=acme-express", headers=operator)
    assert report.status_code == 200
    bad = client.get("/api/v1/operators/unmapped-codes?carrier=ACME", headers=operator)
    assert bad.status_code == 400 and bad.get_json()["errors"][0]["field"] == "carrier"


def test_the_openapi_document_states_the_same_pattern(client):
    doc = client.get("/api/openapi.json").get_json()
    schemas = [
        parameter["schema"]
        for path, operations in doc["paths"].items()
        if "/carriers/{" in path
        for operation in operations.values()
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "path"
    ]
    assert len(schemas) == 3  # the push, and the operators' signing secret (set, delete)
    patterns = {schema["pattern"] for schema in schemas}
    assert patterns == {f"^{CARRIER_CODE_REGEX}$"}
    documented = re.compile(patterns.pop())
    for code in GOOD + BAD:
        # JSON Schema patterns are ECMA-262 regexes: "$" ends the string (no newline before it).
        matched = documented.search(code) is not None and not code.endswith("\n")
        assert matched == is_carrier_code(code), code


def test_a_carrier_code_is_checked_whole():
    assert is_carrier_code("acme-express") and not is_carrier_code("acme-express\n")
    assert not is_carrier_code("acme-express/events")
