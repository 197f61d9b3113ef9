"""Merchants register their parcels and list their own, through the HTTP API."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import bearer
from tests.web.support import PARCELS, ago, parcel
from tracking.types import utcnow
from web.worker.merchant_jobs import stalled_parcels_job


def register(client: FlaskClient, headers: dict[str, str], body: Any) -> Any:
    return client.post(PARCELS, data=orjson.dumps(body), content_type="application/json", headers=headers)


def listing(client: FlaskClient, headers: dict[str, str], query: str = "") -> dict[str, Any]:
    resp = client.get(PARCELS + query, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    body: dict[str, Any] = resp.get_json()
    return body


def test_registering_one_parcel_answers_201_with_its_id_numbers_and_status(client, shop):
    resp = register(client, shop, parcel(" rx 747628194cn "))
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert isinstance(body["id"], int)
    assert body["identifiers"] == ["RX747628194CN"] and body["tracking_number"] == "RX747628194CN"
    assert body["status"] == "pending" and body["substatus"] == "registered"
    assert body["reference"] == "ORDER-1" and body["created"] is True
    assert body["origin"] == "cn_shenzhen" and body["destination"] == "ru_moscow"


def test_places_may_be_given_in_russian_chinese_or_as_place_ids(client, shop):
    resp = register(client, shop, parcel(origin="深圳", destination="Москва"))
    assert resp.status_code == 201, resp.get_json()
    assert (resp.get_json()["origin"], resp.get_json()["destination"]) == ("cn_shenzhen", "ru_moscow")
    resp = register(client, shop, parcel("RX000000001CN", "ORDER-2", origin="cn_shenzhen"))
    assert resp.get_json()["origin"] == "cn_shenzhen"


def test_batch_registers_every_parcel_in_order(client, shop):
    batch = {"parcels": [parcel(f"LP00{i}4567890CN", f"B-{i}") for i in range(5)]}
    resp = register(client, shop, batch)
    assert resp.status_code == 201, resp.get_json()
    out = resp.get_json()["parcels"]
    assert [p["reference"] for p in out] == [f"B-{i}" for i in range(5)]
    assert len(listing(client, shop)["parcels"]) == 5


def test_one_bad_item_rejects_the_batch_naming_each_item_and_field(client, shop):
    batch = {
        "parcels": [
            parcel("RX000000001CN", "A"),
            parcel("RX000000002CN", "B", destination="Atlantis", service="teleport"),
            parcel("RX000000003CN", "C", identifiers=[]),
            parcel("RX000000004CN", "D", ship_at="2026-11-20T08:00:00", colour="red"),
        ]
    }
    resp = register(client, shop, batch)
    assert resp.status_code == 422
    assert resp.content_type == "application/problem+json"
    errors = {(e["index"], e.get("field")) for e in resp.get_json()["errors"]}
    assert errors == {(1, "destination"), (1, "service"), (2, "identifiers"), (3, "ship_at"), (3, "colour")}
    assert listing(client, shop)["parcels"] == []


def test_number_repeated_within_a_batch_is_named(client, shop):
    resp = register(client, shop, [parcel("RX000000001CN", "A"), parcel("RX000000001CN", "B")])
    assert resp.status_code == 422
    assert resp.get_json()["errors"] == [
        {"index": 1, "field": "identifiers[0]", "error": "RX000000001CN is also in parcel 0"}
    ]


def test_more_than_1000_parcels_are_refused(client, shop):
    resp = register(client, shop, {"parcels": [parcel(f"N{i:08d}", f"R{i}") for i in range(1001)]})
    assert resp.status_code == 422
    assert resp.get_json()["errors"][0]["field"] == "parcels"


def test_number_on_another_merchants_parcel_is_a_409_for_that_item_and_nothing_is_written(
    client, shop, rival
):
    assert register(client, rival, parcel("RX747628194CN", "THEIRS")).status_code == 201
    resp = register(client, shop, [parcel("RX000000001CN", "MINE-1"), parcel("RX747628194CN", "MINE-2")])
    assert resp.status_code == 409
    assert resp.get_json()["errors"] == [
        {"index": 1, "field": "identifiers[0]", "error": "RX747628194CN belongs to another merchant's parcel"}
    ]
    assert listing(client, shop)["parcels"] == []


def test_registration_adopts_a_parcel_first_seen_in_carrier_scans(client, shop, scan):
    scan("RX747628194CN")
    resp = register(client, shop, parcel("RX747628194CN", identifiers=["RX747628194CN", "CDEK123456"]))
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "in_transit" and body["substatus"] == "departed"
    assert body["identifiers"] == ["RX747628194CN", "CDEK123456"]
    detail = client.get("/api/v1/merchant/parcels/CDEK123456", headers=shop).get_json()
    assert detail["id"] == body["id"] and detail["reference"] == "ORDER-1" and len(detail["events"]) == 1


def test_registering_the_same_reference_again_returns_the_parcel_registered_before(client, shop):
    first = register(client, shop, parcel()).get_json()
    again = register(client, shop, parcel())
    assert again.status_code == 200
    assert again.get_json()["id"] == first["id"] and again.get_json()["created"] is False
    assert len(listing(client, shop)["parcels"]) == 1


def test_same_reference_with_other_numbers_is_a_conflict(client, shop):
    register(client, shop, parcel())
    resp = register(client, shop, parcel("RX000000009CN"))
    assert resp.status_code == 409
    assert resp.get_json()["errors"][0]["field"] == "reference"


def test_registering_needs_a_merchant_key(client, make_key):
    assert register(client, {}, parcel()).status_code == 401
    carrier = bearer(make_key("carrier", "acme_post"))
    assert register(client, carrier, parcel()).status_code == 403


def test_malformed_json_is_a_400(client, shop):
    resp = client.post(PARCELS, data=b"{not json", content_type="application/json", headers=shop)
    assert resp.status_code == 400 and resp.content_type == "application/problem+json"


def test_a_merchant_lists_only_its_own_parcels(client, shop, rival):
    register(client, shop, parcel("RX000000001CN", "A"))
    register(client, rival, parcel("RX000000002CN", "B"))
    assert [p["reference"] for p in listing(client, shop)["parcels"]] == ["A"]
    assert [p["reference"] for p in listing(client, rival)["parcels"]] == ["B"]


def test_listing_filters_by_status(client, shop, scan):
    register(
        client,
        shop,
        [parcel("RX000000001CN", "A"), parcel("RX000000002CN", "B"), parcel("RX000000003CN", "C")],
    )
    scan("RX000000002CN")
    scan("RX000000003CN", "delivered", "recipient")
    assert [p["reference"] for p in listing(client, shop, "?status=in_transit")["parcels"]] == ["B"]
    both = listing(client, shop, "?status=pending,delivered")["parcels"]
    assert sorted(p["reference"] for p in both) == ["A", "C"]


def test_listing_filters_by_updated_since(client, shop, scan):
    register(client, shop, parcel("RX000000001CN", "A"))
    second = register(client, shop, parcel("RX000000002CN", "B")).get_json()
    since = second["updated_at"]
    got = listing(client, shop, f"?updated_since={since.replace('+', '%2B')}")["parcels"]
    assert [p["reference"] for p in got] == ["B"]
    scan("RX000000001CN")
    got = listing(client, shop, f"?updated_since={since.replace('+', '%2B')}")["parcels"]
    assert [p["reference"] for p in got] == ["B", "A"]


def test_listing_filters_delayed_parcels(app, client, shop, scan):
    register(client, shop, [parcel("RX000000001CN", "A"), parcel("RX000000002CN", "B")])
    scan("RX000000001CN", at=ago(days=9))
    scan("RX000000002CN", at=ago(days=1))
    stalled_parcels_job(app, utcnow())
    delayed = listing(client, shop, "?delayed=true")["parcels"]
    assert [p["reference"] for p in delayed] == ["A"] and delayed[0]["delayed"] is True
    assert [p["reference"] for p in listing(client, shop, "?delayed=false")["parcels"]] == ["B"]


def test_parcel_that_moves_again_is_no_longer_delayed(app, client, shop, scan):
    register(client, shop, parcel())
    scan("RX747628194CN", at=ago(days=9))
    stalled_parcels_job(app, utcnow())
    assert len(listing(client, shop, "?delayed=true")["parcels"]) == 1
    scan("RX747628194CN", "in_transit", "arrived")
    stalled_parcels_job(app, utcnow())
    assert listing(client, shop, "?delayed=true")["parcels"] == []


def test_delivered_parcel_is_never_delayed(app, client, shop, scan):
    register(client, shop, parcel())
    scan("RX747628194CN", "delivered", "recipient", at=ago(days=60))
    stalled_parcels_job(app, utcnow())
    assert listing(client, shop, "?delayed=true")["parcels"] == []


def test_customs_gets_a_longer_threshold_than_transit(app, client, shop, scan):
    register(client, shop, [parcel("RX000000001CN", "A"), parcel("RX000000002CN", "B")])
    eight_days_ago = ago(days=8)
    scan("RX000000001CN", "in_transit", "departed", at=eight_days_ago)
    scan("RX000000002CN", "in_transit", "customs_processing", at=eight_days_ago)
    stalled_parcels_job(app, utcnow())
    assert [p["reference"] for p in listing(client, shop, "?delayed=true")["parcels"]] == ["A"]


def test_pages_walk_every_parcel_once(client, shop):
    register(client, shop, {"parcels": [parcel(f"N{i:08d}", f"R{i:02d}") for i in range(23)]})
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        query = "?limit=5" + (f"&cursor={cursor}" if cursor else "")
        page = listing(client, shop, query)
        seen += [p["reference"] for p in page["parcels"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 5
    assert sorted(seen) == [f"R{i:02d}" for i in range(23)] and len(seen) == len(set(seen))


def test_page_cursor_combines_with_filters(client, shop, scan):
    register(client, shop, {"parcels": [parcel(f"N{i:08d}", f"R{i:02d}") for i in range(6)]})
    for i in (1, 3, 5):
        scan(f"N{i:08d}")
    first = listing(client, shop, "?status=in_transit&limit=2")
    rest = listing(client, shop, f"?status=in_transit&limit=2&cursor={first['next_cursor']}")
    refs = [p["reference"] for p in first["parcels"] + rest["parcels"]]
    assert sorted(refs) == ["R01", "R03", "R05"] and rest["next_cursor"] is None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?status=lost_in_space", "status"),
        ("?delayed=maybe", "delayed"),
        ("?updated_since=yesterday", "updated_since"),
        ("?updated_since=2026-11-20T08:00:00", "updated_since"),
        ("?limit=501", "limit"),
        ("?limit=0", "limit"),
        ("?cursor=garbage", "cursor"),
    ],
)
def test_bad_query_parameters_are_named(client, shop, query, field):
    resp = client.get(PARCELS + query, headers=shop)
    assert resp.status_code == 422
    assert resp.get_json()["errors"][0]["field"] == field


def test_merchant_view_of_own_parcel_has_reference_and_timeline(client, shop, scan):
    register(client, shop, parcel())
    scan("RX747628194CN")
    resp = client.get("/api/v1/merchant/parcels/RX747628194CN", headers=shop)
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["reference"] == "ORDER-1" and body["status"] == "in_transit"
    assert body["events"][0]["location"]["name"] == "Shenzhen"


def test_merchant_view_of_another_merchants_parcel_is_404(client, shop, rival):
    register(client, rival, parcel())
    resp = client.get("/api/v1/merchant/parcels/RX747628194CN", headers=shop)
    assert resp.status_code == 404
    assert "ORDER-1" not in resp.get_data(as_text=True)


def test_public_view_shows_no_reference(client, shop):
    register(client, shop, parcel())
    body = client.get("/api/v1/parcels/RX747628194CN").get_json()
    assert (
        body["status"] == "pending"
        and "reference" not in body
        and "ORDER-1" not in orjson.dumps(body).decode()
    )


def test_operator_key_has_no_merchant_to_list_for(client, make_key):
    resp = client.get(PARCELS, headers=bearer(make_key("operator")))
    assert resp.status_code == 403


def test_openapi_documents_the_merchant_endpoints(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert {"post", "get"} <= set(paths["/api/v1/parcels"])
    assert "get" in paths["/api/v1/merchant/parcels/{tracking_number}"]
    assert {"post", "get"} <= set(paths["/api/v1/webhooks"])
    assert "delete" in paths["/api/v1/webhooks/{subscription_id}"]
    assert "get" in paths["/api/v1/webhooks/{subscription_id}/deliveries"]


def test_app_fixture_is_flask(app):
    assert isinstance(app, Flask)
