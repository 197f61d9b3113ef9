"""`silkway keys create --role merchant`: standard error says whether the merchant was new or the key
was added to an existing one; the key stays alone on the last line of standard output."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import func, select

from tests.conftest import bearer
from tracking import models


def create(app: Flask, name: str) -> Any:
    result = app.test_cli_runner().invoke(args=["keys", "create", "--role", "merchant", "--merchant", name])
    assert result.exit_code == 0, result.output
    return result


def merchants(app: Flask) -> int:
    with app.app_context():
        session = app.extensions["silkway.db"].session()
        try:
            return int(session.scalar(select(func.count()).select_from(models.Merchant)) or 0)
        finally:
            session.close()


def test_a_new_merchant_is_said_so_on_standard_error(app, client):
    result = create(app, "Shenzhen Gadgets")
    assert "created a new merchant 'Shenzhen Gadgets'" in result.stderr
    assert "existing" not in result.stderr
    key = result.stdout.strip().splitlines()[-1]
    assert key.startswith("sw_mer_") and "merchant" not in result.stdout
    assert client.get("/api/v1/parcels", headers=bearer(key)).status_code == 200
    assert merchants(app) == 1


def test_a_key_for_an_existing_merchant_says_it_is_added_to_it(app, client):
    first = create(app, "Shenzhen Gadgets").stdout.strip().splitlines()[-1]
    result = create(app, "  Shenzhen Gadgets ")
    assert "adding a key to the existing merchant 'Shenzhen Gadgets'" in result.stderr
    assert "new merchant" not in result.stderr
    second = result.stdout.strip().splitlines()[-1]
    assert second != first and merchants(app) == 1
    # both keys act for the one merchant: what one registers, the other lists
    body = {
        "identifiers": ["RX747628194CN"],
        "origin": "Shenzhen",
        "destination": "Moscow",
        "service": "standard_air",
        "reference": "ORDER-1",
    }
    assert client.post("/api/v1/parcels", json=body, headers=bearer(first)).status_code == 201
    listed = client.get("/api/v1/parcels", headers=bearer(second)).get_json()["parcels"]
    assert [p["reference"] for p in listed] == ["ORDER-1"]


def test_carrier_and_operator_keys_say_nothing_of_merchants(app):
    result = app.test_cli_runner().invoke(args=["keys", "create", "--role", "operator"])
    assert result.exit_code == 0 and "merchant" not in result.stderr
