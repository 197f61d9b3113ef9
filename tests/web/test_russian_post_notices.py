"""A Russian Post batch answer in which some barcodes carry an Error is the carrier's answer, not bad input.

Error 12 ("no data for that number") on one Item names that barcode under ``notices`` (counted under
``ignored``); the other items are stored without ``?partial=true``. Malformed items still reject the
batch as before.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.carriers.samples import sample_bytes, sample_path
from tests.conftest import bearer
from tracking import models

BATCH = "russianpost_getResponseByTicket_batch_response.xml"
URL = "/api/v1/carriers/russian_post/events"
NOTICE = {"index": 2, "tracking_number": "RA123456789RU", "code": "12", "reason": "Сообщение не найдено"}
STORED = {"45008378901234": 8, "10725878901235": 5}


def push(client: Any, key: str, raw: bytes, query: str = "") -> Any:
    return client.post(URL + query, data=raw, content_type="text/xml", headers=bearer(key))


def counts(app: Flask) -> tuple[int, ...]:
    with app.app_context():
        session = app.extensions["silkway.db"].session()
        try:
            return tuple(
                session.scalar(select(func.count()).select_from(table)) or 0
                for table in (models.ScanEvent, models.Parcel, models.RawPayload)
            )
        finally:
            session.close()


@pytest.fixture
def key(make_key: Any) -> str:
    return str(make_key("carrier", "russian_post"))


def test_batch_with_a_no_data_item_is_stored_without_partial_and_names_the_barcode(client, key):
    resp = push(client, key, sample_bytes(BATCH))
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["accepted"] == 13 and body["duplicates"] == 0
    assert body["rejected"] == []
    assert body["notices"] == [NOTICE]
    assert body["ignored"] == 1
    for number, events in STORED.items():
        view = client.get(f"/api/v1/parcels/{number}")
        assert view.status_code == 200, view.get_json()
        assert len(view.get_json()["events"]) == events
        assert {e["carrier"] for e in view.get_json()["events"]} == {"russian_post"}
    # Nothing is known of the noticed number: no parcel is made up for it.
    assert client.get("/api/v1/parcels/RA123456789RU").status_code == 404


def test_the_same_batch_again_is_all_duplicates_and_names_the_barcode_again(client, key):
    push(client, key, sample_bytes(BATCH))
    again = push(client, key, sample_bytes(BATCH)).get_json()
    assert (again["accepted"], again["duplicates"], again["ignored"]) == (0, 13, 1)
    assert again["notices"] == [NOTICE]


def test_partial_mode_answers_the_same_for_such_a_batch(client, key):
    body = push(client, key, sample_bytes(BATCH), "?partial=true").get_json()
    assert (body["accepted"], body["rejected"], body["notices"]) == (13, [], [NOTICE])


def test_a_malformed_item_still_rejects_the_batch_and_writes_nothing(app, client, key):
    raw = sample_bytes(BATCH).replace(b'DateOper="10.09.2015 04:42:00"', b'DateOper="31.02.2015 04:42:00"')
    before = counts(app)
    resp = push(client, key, raw)
    assert resp.status_code == 422
    body = resp.get_json()
    assert [(e["index"], e.get("field")) for e in body["errors"]] == [(0, "Operation[1].OperDate")]
    assert counts(app) == before
    kept = push(client, key, raw, "?partial=true").get_json()
    assert kept["accepted"] == 12 and [r["index"] for r in kept["rejected"]] == [0]
    assert kept["notices"] == [NOTICE]


def test_an_error_item_without_its_barcode_is_malformed(app, client, key):
    raw = sample_bytes(BATCH).replace(b'Barcode="RA123456789RU"', b"")
    resp = push(client, key, raw)
    assert resp.status_code == 422
    assert [(e["index"], e.get("field")) for e in resp.get_json()["errors"]] == [(2, "Barcode")]


def test_import_of_the_batch_file_stores_it_and_reports_the_notice(app, client, key):
    result = app.test_cli_runner().invoke(
        args=["import", "--carrier", "russian_post", "--atomic", str(sample_path(BATCH))]
    )
    assert result.exit_code == 0, result.output
    assert "accepted=13" in result.output and "rejected=0" in result.output and "ignored=1" in result.output
    assert "RA123456789RU" in result.output and "12" in result.output
    for number in STORED:
        assert client.get(f"/api/v1/parcels/{number}").status_code == 200


def test_the_answer_schema_documents_notices(client):
    doc = client.get("/api/openapi.json").get_json()
    answer = doc["paths"]["/api/v1/carriers/{carrier}/events"]["post"]["responses"]["200"]
    ref = answer["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    schemas = doc["components"]["schemas"]
    notices = schemas[ref]["properties"]["notices"]
    assert "ignored" in notices["description"]
    item = schemas[notices["items"]["$ref"].rsplit("/", 1)[-1]]
    assert {"index", "tracking_number", "code", "reason"} <= set(item["properties"])
