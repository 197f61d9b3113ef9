"""Every real carrier sample pushed through the HTTP API and read back as a timeline.

The adapter's own reading of each sample is the expectation: what the HTTP path stores must be exactly
that (deduplicated), under every tracking number it names. Adapter-level tests check the readings
themselves event by event (tests/carriers/).
"""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from carriers import ADAPTERS
from tests.carriers.samples import sample_bytes, sample_path
from tests.conftest import bearer
from tracking import models
from tracking.events import PayloadError

SAMPLES = [
    ("17track_v2_webhook_TRACKING_UPDATED.json", "track17"),
    ("aftership_get_tracking_result.json", "aftership"),
    ("aftership_webhook_tracking_update.json", "aftership"),
    ("aftership_webhook_edd_revise.json", "aftership"),
    ("aftership_edd_batch_predict_request.json", "aftership"),
    ("aftership_edd_batch_predict_result.json", "aftership"),
    ("cainiao_global_detail_AE010698498.json", "cainiao"),
    ("cainiao_global_detail_RS0814398526Y.json", "cainiao"),
    ("cainiao_global_detail_UZ0556033196Y.json", "cainiao"),
    ("cdek_v1_StatusReport_response.xml", "cdek_v1"),
    ("cdek_v2_webhook_ORDER_STATUS.json", "cdek"),
    ("cdek_v2_webhook_PRINT_FORM.json", "cdek"),
    ("easypost_event_tracker_updated.json", "easypost"),
    ("easypost_tracker_create_response.json", "easypost"),
    ("russianpost_getOperationHistory_response_domestic.xml", "russian_post"),
    ("russianpost_getResponseByTicket_batch_response.xml", "russian_post"),
    ("sf_express_route_response.json", "sf_express"),
    ("yanwen_trackapi_tracking_response.json", "yanwen"),
]
MUST_STORE = {"cainiao", "russian_post", "cdek", "track17"}


def content_type(name: str) -> str:
    return "text/xml" if name.endswith(".xml") else "application/json"


def post(client, key, carrier, body, ctype, query="?partial=true"):
    return client.post(
        f"/api/v1/carriers/{carrier}/events{query}", data=body, content_type=ctype, headers=bearer(key)
    )


def minute(item):
    status, substatus, at = item
    return status, substatus, at.replace(second=0, microsecond=0)


def instants(events):
    return {
        (e["status"], e["substatus"], datetime.fromisoformat(e["occurred_at"]).astimezone(UTC))
        for e in events
    }


@pytest.mark.parametrize(("name", "fmt"), SAMPLES)
def test_sample_pushed_over_http_reads_back_as_the_adapter_parsed_it(client, make_key, name, fmt):
    key = make_key("carrier", f"{fmt}_co", fmt)
    raw = sample_bytes(name)
    try:
        expected = ADAPTERS[fmt].parse(raw, content_type(name), f"{fmt}_co")
    except PayloadError:
        resp = post(client, key, f"{fmt}_co", raw, content_type(name))
        assert resp.status_code == 400, resp.get_json()
        assert resp.content_type == "application/problem+json" and resp.get_json()["detail"]
        assert fmt not in MUST_STORE, f"{name} should be readable"
        return
    resp = post(client, key, f"{fmt}_co", raw, content_type(name))
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["accepted"] + body["duplicates"] == len(expected.events)
    assert [r["index"] for r in body["rejected"]] == sorted(e.index for e in expected.errors)
    assert body["ignored"] == expected.ignored
    if fmt in MUST_STORE and expected.events:
        assert body["accepted"] > 0
    for number in {e.tracking_number for e in expected.events}:
        view = client.get(f"/api/v1/parcels/{number}").get_json()
        stored = instants(view["events"])
        wanted = {
            (e.status.value, e.substatus, e.occurred_at_utc)
            for e in expected.events
            if e.tracking_number == number
        }
        # Events are identified to the minute (see docs/statuses.md), so compare to the minute.
        assert {minute(x) for x in stored} == {minute(x) for x in wanted}
    again = post(client, key, f"{fmt}_co", raw, content_type(name)).get_json()
    assert again["accepted"] == 0 and again["duplicates"] == len(expected.events)


def test_a_17track_update_with_no_scans_yet_is_acknowledged_as_ignored(client, make_key):
    key = make_key("carrier", "track17_co", "track17")
    doc = orjson.loads(sample_bytes("17track_v2_webhook_TRACKING_UPDATED.json"))
    for provider in doc["data"]["track_info"]["tracking"]["providers"]:
        provider["events"] = []
    resp = post(client, key, "track17_co", orjson.dumps(doc), "application/json", query="")
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["accepted"] == 0 and body["rejected"] == [] and body["ignored"] == 1
    assert [(n["index"], n["tracking_number"]) for n in body["notices"]] == [(0, doc["data"]["number"])]
    assert client.get(f"/api/v1/parcels/{doc['data']['number']}").status_code == 404


def _cainiao_with_handover(number: str) -> bytes:
    doc = orjson.loads(sample_bytes("cainiao_global_detail_AE010698498.json"))
    module = doc["module"][0] if isinstance(doc.get("module"), list) else doc["module"]
    module["copyRealMailNo"] = number
    return orjson.dumps(doc)


def test_cainiao_then_russian_post_number_show_one_timeline(client, make_key):
    cainiao, post_ru = make_key("carrier", "cainiao"), make_key("carrier", "russian_post")
    rp_raw = sample_bytes("russianpost_getOperationHistory_response_domestic.xml")
    assert (
        post(
            client, cainiao, "cainiao", _cainiao_with_handover("44334455667733"), "application/json", ""
        ).status_code
        == 200
    )
    assert post(client, post_ru, "russian_post", rp_raw, "text/xml", "").status_code == 200
    by_cainiao = client.get("/api/v1/parcels/AE010698498").get_json()
    by_post = client.get("/api/v1/parcels/44334455667733").get_json()
    assert by_cainiao["events"] == by_post["events"]
    assert {"AE010698498", "44334455667733"} <= set(by_post["identifiers"])
    carriers = {e["carrier"] for e in by_post["events"]}
    assert carriers == {"cainiao", "russian_post"}
    assert by_post["status"] == by_post["events"][0]["status"] or by_post["status"] == "delivered"


def test_russian_post_first_then_cainiao_handover_merges_into_one_parcel(client, make_key):
    cainiao, post_ru = make_key("carrier", "cainiao"), make_key("carrier", "russian_post")
    rp_raw = sample_bytes("russianpost_getOperationHistory_response_domestic.xml")
    post(client, post_ru, "russian_post", rp_raw, "text/xml", "")
    post(client, cainiao, "cainiao", _cainiao_with_handover("44334455667733"), "application/json", "")
    views = [client.get(f"/api/v1/parcels/{n}").get_json() for n in ("AE010698498", "44334455667733")]
    assert views[0]["events"] == views[1]["events"]


def test_import_cli_ingests_sample_files_with_a_summary(app, make_key):
    make_key("carrier", "cainiao")
    files = [str(sample_path(n)) for n, f in SAMPLES if f == "cainiao"]
    result = app.test_cli_runner().invoke(args=["import", "--carrier", "cainiao", *files])
    assert result.exit_code == 0, result.output
    assert "files=3" in result.output and "accepted=" in result.output
    again = app.test_cli_runner().invoke(args=["import", "--carrier", "cainiao", *files])
    assert "accepted=0" in again.output


def test_import_cli_refuses_an_unknown_carrier(app):
    result = app.test_cli_runner().invoke(
        args=["import", "--carrier", "nobody", str(sample_path("cdek_v2_webhook_ORDER_STATUS.json"))]
    )
    assert result.exit_code != 0 and "unknown carrier" in result.output


def _counts(app):
    with app.app_context():
        session = app.extensions["silkway.db"].session()
        try:
            return tuple(
                session.scalar(select(func.count()).select_from(table))
                for table in (models.ScanEvent, models.Parcel, models.Identifier, models.RawPayload)
            )
        finally:
            session.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mangled_native_payloads_never_5xx_and_never_half_write(app, client, make_key, data):
    fmt, name = data.draw(
        st.sampled_from(
            [
                ("cainiao", "cainiao_global_detail_RS0814398526Y.json"),
                ("russian_post", "russianpost_getResponseByTicket_batch_response.xml"),
                ("cdek", "cdek_v2_webhook_ORDER_STATUS.json"),
            ]
        )
    )
    raw = sample_bytes(name)
    cut = data.draw(st.integers(0, len(raw)))
    flips = data.draw(
        st.lists(st.tuples(st.integers(0, max(len(raw) - 1, 0)), st.integers(0, 255)), max_size=3)
    )
    mangled = bytearray(raw[:cut])
    for position, value in flips:
        if position < len(mangled):
            mangled[position] = value
    key = make_key("carrier", fmt)
    before = _counts(app)
    resp = post(client, key, fmt, bytes(mangled), content_type(name), "")
    assert resp.status_code in {200, 400, 422}, resp.get_data(as_text=True)[:500]
    if resp.status_code != 200:
        assert _counts(app) == before, "a refused payload wrote something"
    else:
        body = resp.get_json()
        assert body["rejected"] == []
