"""The merchants' list through HTTP: filters that filter, unknown parameters refused, ETA and URL on each
item, and the CSV export of the filtered list."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.web.support import PARCELS, parcel, register_parcels


def listing(client: FlaskClient, headers: dict[str, str], query: str = "") -> list[dict[str, Any]]:
    resp = client.get(PARCELS + query, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    items: list[dict[str, Any]] = resp.get_json()["parcels"]
    return items


def refs(items: list[dict[str, Any]]) -> list[str]:
    return sorted(p["reference"] for p in items)


def register(client: FlaskClient, headers: dict[str, str], *bodies: dict[str, Any]) -> list[dict[str, Any]]:
    resp = client.post(PARCELS, json={"parcels": list(bodies)}, headers=headers)
    assert resp.status_code == 201, resp.get_json()
    out: list[dict[str, Any]] = resp.get_json()["parcels"]
    return out


def test_reference_returns_only_that_parcel(client, shop, rival):
    register_parcels(client, shop, "RX000000001CN", "RX000000002CN", "RX000000003CN")
    register_parcels(client, rival, "RX000000004CN")
    got = listing(client, shop, "?reference=ORDER-RX000000002CN")
    assert [p["tracking_number"] for p in got] == ["RX000000002CN"]
    assert listing(client, shop, "?reference=ORDER-RX000000004CN") == []  # the rival's stays its own


def test_unknown_parameters_are_a_400_naming_them(client, shop):
    resp = client.get(PARCELS + "?bogus=1&reference=A&colour=red", headers=shop)
    assert resp.status_code == 400
    assert resp.content_type == "application/problem+json"
    body = resp.get_json()
    assert [e["field"] for e in body["errors"]] == ["bogus", "colour"]
    assert "bogus" in body["detail"] and "colour" in body["detail"]


def test_lane_and_creation_window_filter(client, shop):
    first = register(client, shop, parcel("RX000000001CN", "A", destination="Novosibirsk"))[0]
    register(client, shop, parcel("RX000000002CN", "B"), parcel("RX000000003CN", "C", origin="Guangzhou"))
    assert refs(listing(client, shop, "?destination=Новосибирск")) == ["A"]
    assert refs(listing(client, shop, "?destination=ru_moscow")) == ["B", "C"]
    assert refs(listing(client, shop, "?origin=Shenzhen&destination=Moscow")) == ["B"]
    since = datetime.fromisoformat(first["created_at"])
    later = listing(client, shop, f"?created_since={since.isoformat().replace('+', '%2B')}")
    assert refs(later) == ["A", "B", "C"]
    before = listing(client, shop, f"?created_before={since.isoformat().replace('+', '%2B')}")
    assert before == []


def test_carrier_filters_by_the_carrier_that_scanned(client, shop, scan):
    register_parcels(client, shop, "RX000000001CN", "RX000000002CN")
    scan("RX000000002CN")
    assert [p["tracking_number"] for p in listing(client, shop, "?carrier=acme_post")] == ["RX000000002CN"]
    assert listing(client, shop, "?carrier=cdek") == []


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("?origin=Atlantis", 422, "origin"),
        ("?reference=", 422, "reference"),
        ("?created_since=yesterday", 422, "created_since"),
        ("?carrier=Not+A+Code", 400, "carrier"),
        ("?format=xml", 422, "format"),
    ],
)
def test_bad_filters_are_named(client, shop, query, status, field):
    resp = client.get(PARCELS + query, headers=shop)
    assert resp.status_code == status
    assert resp.get_json()["errors"][0]["field"] == field


def test_items_have_eta_and_public_url_even_before_any_scan(client, shop):
    register_parcels(client, shop, "RX747628194CN")
    (item,) = listing(client, shop)
    assert item["url"] == "http://127.0.0.1:8000/track/RX747628194CN"
    public = client.get("/api/v1/parcels/RX747628194CN").get_json()["eta"]
    assert public is not None and item["eta"] is not None
    assert set(item["eta"]) == {"p10", "p50", "p90"}
    assert item["eta"]["p50"] == public["p50"]
    assert item["eta"]["p10"] <= item["eta"]["p50"] <= item["eta"]["p90"]


def test_item_without_an_estimate_has_eta_null(client, shop, scan):
    register_parcels(client, shop, "RX747628194CN")
    scan("RX747628194CN", "exception", "customs_duty_due")  # the date is the shopper's: no estimate
    (item,) = listing(client, shop)
    assert item["eta"] is None and client.get("/api/v1/parcels/RX747628194CN").get_json()["eta"] is None


def test_accept_text_csv_exports_the_filtered_list(client, shop):
    register_parcels(client, shop, "RX000000001CN", "RX000000002CN")
    register(client, shop, parcel("RX000000003CN", "=HYPERLINK(1)"))
    resp = client.get(PARCELS + "?destination=Moscow", headers={**shop, "Accept": "text/csv"})
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert sorted(r["tracking_number"] for r in rows) == ["RX000000001CN", "RX000000002CN", "RX000000003CN"]
    row = next(r for r in rows if r["tracking_number"] == "RX000000001CN")
    assert row["reference"] == "ORDER-RX000000001CN" and row["status"] == "pending"
    assert row["url"].endswith("/track/RX000000001CN") and row["eta_p50"]
    assert next(r for r in rows if r["tracking_number"] == "RX000000003CN")["reference"] == "'=HYPERLINK(1)"
    one = client.get(PARCELS + "?format=csv&reference=ORDER-RX000000002CN", headers=shop)
    assert one.mimetype == "text/csv"
    assert [r["tracking_number"] for r in csv.DictReader(io.StringIO(one.get_data(as_text=True)))] == [
        "RX000000002CN"
    ]


def test_csv_pages_carry_the_next_cursor(client, shop):
    register_parcels(client, shop, *(f"RX00000000{i}CN" for i in range(1, 4)))
    first = client.get(PARCELS + "?format=csv&limit=2", headers=shop)
    assert len(first.get_data(as_text=True).strip().splitlines()) == 3
    cursor = first.headers["Silkway-Next-Cursor"]
    rest = client.get(PARCELS + f"?format=csv&limit=2&cursor={cursor}", headers=shop)
    assert len(rest.get_data(as_text=True).strip().splitlines()) == 2
    assert "Silkway-Next-Cursor" not in rest.headers


def test_json_stays_the_default_and_its_limit_500(client, shop):
    assert client.get(PARCELS, headers={**shop, "Accept": "*/*"}).mimetype == "application/json"
    assert client.get(PARCELS + "?limit=501", headers=shop).status_code == 422


def test_openapi_documents_the_filters_eta_url_and_csv(client):
    document = client.get("/api/openapi.json").get_json()
    operation = document["paths"]["/api/v1/parcels"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    filters = {"reference", "origin", "destination", "carrier", "created_since", "created_before", "format"}
    assert filters <= names
    assert {"application/json", "text/csv"} <= set(operation["responses"]["200"]["content"])
    listed = document["components"]["schemas"]["MerchantParcel"]["properties"]
    assert {"eta", "url"} <= set(listed)
