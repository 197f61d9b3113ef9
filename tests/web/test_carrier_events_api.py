"""POST /api/v1/carriers/{carrier}/events with the canonical format, read back through the public API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest
from flask.testing import FlaskClient

from tests.conftest import bearer

URL = "/api/v1/carriers/{}/events"


def scan(
    number: str = "RX747628194CN",
    status: str = "in_transit",
    substatus: str | None = "departed",
    at: str = "2026-10-20T08:31:00+08:00",
    **extra: Any,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "tracking_number": number,
        "status": status,
        "occurred_at": at,
        "location": {"name": "Shenzhen", "country": "CN"},
        "description": "Departed from sorting centre",
        "raw_code": "SC_OUTBOUND_SUCCESS",
    }
    if substatus is not None:
        event["substatus"] = substatus
    event.update(extra)
    return event


@pytest.fixture
def push(client: FlaskClient, make_key: Callable[..., str]) -> Callable[..., Any]:
    key = make_key("carrier", "acme_post")

    def _push(*events: dict[str, Any], carrier: str = "acme_post", query: str = "", token: str | None = None):
        body = orjson.dumps({"events": list(events)})
        return client.post(
            URL.format(carrier) + query,
            data=body,
            content_type="application/json",
            headers=bearer(token or key),
        )

    return _push


def timeline(client: FlaskClient, number: str) -> dict[str, Any]:
    resp = client.get(f"/api/v1/parcels/{number}")
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def test_accepted_event_appears_in_public_timeline(push, client):
    resp = push(scan())
    assert resp.status_code == 200
    assert resp.get_json() == {
        "accepted": 1,
        "duplicates": 0,
        "rejected": [],
        "ignored": 0,
        "notices": [],
        "unmapped": {},
    }
    view = timeline(client, "RX747628194CN")
    assert view["status"] == "in_transit" and view["substatus"] == "departed"
    assert view["identifiers"] == ["RX747628194CN"]
    [event] = view["events"]
    assert event["occurred_at"] == "2026-10-20T08:31:00+08:00"
    assert event["location"]["country"] == "CN" and event["carrier"] == "acme_post"


def test_same_event_posted_twice_is_stored_once(push, client):
    assert push(scan()).get_json()["accepted"] == 1
    again = push(scan()).get_json()
    assert again["accepted"] == 0 and again["duplicates"] == 1
    assert len(timeline(client, "RX747628194CN")["events"]) == 1


def test_reworded_resend_with_other_seconds_is_a_duplicate(push, client):
    push(scan())
    reworded = scan(description="Left the Shenzhen hub", at="2026-10-20T00:31:42Z", raw_code="OUT")
    assert push(reworded).get_json()["duplicates"] == 1
    assert len(timeline(client, "RX747628194CN")["events"]) == 1


def test_duplicate_inside_one_batch_is_counted_once(push):
    body = push(scan(), scan()).get_json()
    assert (body["accepted"], body["duplicates"]) == (1, 1)


def test_late_old_scan_does_not_override_newer_status(push, client):
    push(scan(status="out_for_delivery", substatus="courier", at="2026-10-28T09:00:00+03:00"))
    push(scan(status="in_transit", substatus="arrived", at="2026-10-25T09:00:00+03:00"))
    view = timeline(client, "RX747628194CN")
    assert view["status"] == "out_for_delivery"
    assert [e["status"] for e in view["events"]] == ["out_for_delivery", "in_transit"]


def test_late_old_scan_does_not_undo_delivered(push, client):
    push(scan(status="delivered", substatus="recipient", at="2026-10-29T12:00:00+03:00"))
    push(scan(status="in_transit", substatus="customs_processing", at="2026-10-26T12:00:00+03:00"))
    assert timeline(client, "RX747628194CN")["status"] == "delivered"


def test_linked_number_gives_one_timeline_under_either_number(push, client):
    push(scan(number="LP00123456789012", at="2026-10-20T08:00:00+08:00", linked_numbers=["RX747628194CN"]))
    push(
        scan(
            number="RX747628194CN",
            status="in_transit",
            substatus="customs_processing",
            at="2026-10-24T10:00:00+03:00",
        )
    )
    first, second = timeline(client, "LP00123456789012"), timeline(client, "RX747628194CN")
    assert first["events"] == second["events"] and len(first["events"]) == 2
    assert sorted(first["identifiers"]) == ["LP00123456789012", "RX747628194CN"]


def test_link_arriving_later_merges_two_parcels(push, client):
    push(scan(number="LP00123456789012", at="2026-10-20T08:00:00+08:00"))
    push(scan(number="RX747628194CN", substatus="customs_processing", at="2026-10-24T10:00:00+03:00"))
    push(
        scan(
            number="LP00123456789012",
            substatus="handed_over",
            at="2026-10-21T08:00:00+08:00",
            linked_numbers=["RX747628194CN"],
        )
    )
    view = timeline(client, "RX747628194CN")
    assert len(view["events"]) == 3 and view["substatus"] == "customs_processing"
    assert timeline(client, "LP00123456789012")["events"] == view["events"]


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"status": "teleported"}, "status"),
        ({"substatus": "on_the_moon"}, "substatus"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"occurred_at": "2026-10-20T08:31:00"}, "occurred_at"),
        ({"tracking_number": ""}, "tracking_number"),
        ({"location": {"country": "RUS"}}, "location.country"),
    ],
)
def test_invalid_item_rejects_whole_batch_and_names_it(push, client, bad, field):
    good = scan(number="RX747628194CN")
    broken = {**scan(number="LX299455986CN"), **bad}
    resp = push(good, broken)
    assert resp.status_code == 422
    assert resp.content_type == "application/problem+json"
    body = resp.get_json()
    assert body["errors"] == [{"index": 1, "field": field, "error": body["errors"][0]["error"]}]
    assert body["rejected"][0]["index"] == 1
    assert client.get("/api/v1/parcels/RX747628194CN").status_code == 404


def test_partial_mode_stores_valid_items_and_lists_rejected(push, client):
    resp = push(scan(), {**scan(number="LX299455986CN"), "status": "teleported"}, query="?partial=true")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["accepted"] == 1 and [r["index"] for r in body["rejected"]] == [1]
    assert client.get("/api/v1/parcels/RX747628194CN").status_code == 200
    assert client.get("/api/v1/parcels/LX299455986CN").status_code == 404


def test_event_far_in_the_future_is_rejected(push):
    resp = push(scan(at="2099-01-01T00:00:00+00:00"))
    assert resp.status_code == 422
    assert resp.get_json()["errors"][0]["field"] == "occurred_at"


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"description": "Departed\u0000"}, "description"),
        ({"location": {"name": "Shen\u0000zhen", "country": "CN"}}, "location.name"),
        ({"raw_code": "SC_\u0000"}, "raw_code"),
    ],
)
def test_a_nul_character_is_refused_by_field_and_the_rest_is_kept(push, client, extra, field):
    resp = push(scan(number="LX299455986CN", **extra))
    assert resp.status_code == 422, resp.get_json()
    assert resp.get_json()["errors"][0]["field"] == field
    resp = push(scan(), scan(number="LX299455986CN", **extra), query="?partial=true")
    assert resp.status_code == 200 and resp.get_json()["accepted"] == 1
    assert [r["field"] for r in resp.get_json()["rejected"]] == [field]
    assert client.get("/api/v1/parcels/RX747628194CN").status_code == 200
    assert client.get("/api/v1/parcels/LX299455986CN").status_code == 404


def test_malformed_json_is_a_400_problem(client, make_key):
    key = make_key("carrier", "acme_post")
    resp = client.post(
        URL.format("acme_post"), data=b'{"events": [', content_type="application/json", headers=bearer(key)
    )
    assert resp.status_code == 400
    assert resp.content_type == "application/problem+json"
    assert "JSON" in resp.get_json()["detail"]


def test_unknown_carrier_is_a_404(push, make_key):
    operator = make_key("operator")
    resp = push(scan(), carrier="nobody_post", token=operator)
    assert resp.status_code == 404 and "nobody_post" in resp.get_json()["detail"]


def test_missing_or_wrong_key_is_refused_and_nothing_written(client, push):
    body = orjson.dumps({"events": [scan()]})
    assert client.post(URL.format("acme_post"), data=body, content_type="application/json").status_code == 401
    resp = push(scan(), token="sw_car_not-a-real-key")
    assert resp.status_code == 401 and resp.headers["WWW-Authenticate"] == "Bearer"
    assert client.get("/api/v1/parcels/RX747628194CN").status_code == 404


def test_carrier_cannot_post_for_another_carrier(push, make_key, client):
    make_key("carrier", "other_post")
    resp = push(scan(), carrier="other_post")
    assert resp.status_code == 403
    assert client.get("/api/v1/parcels/RX747628194CN").status_code == 404


def test_merchant_key_cannot_post_carrier_events(push, make_key):
    merchant = make_key("merchant", "Shenzhen Gadgets")
    assert push(scan(), token=merchant).status_code == 403


def test_public_view_holds_no_personal_or_merchant_data(push, client):
    push(scan())
    raw = client.get("/api/v1/parcels/RX747628194CN").get_data(as_text=True)
    for forbidden in ("merchant", "reference", "recipient_name", "phone", "email", "address"):
        assert forbidden not in raw


def test_unknown_parcel_is_a_helpful_404(client):
    resp = client.get("/api/v1/parcels/RX747628194CN")
    assert resp.status_code == 404
    body = resp.get_json()
    assert body["valid"] is True and body["candidates"][0]["format"]
