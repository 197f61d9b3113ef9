"""Look-alike spellings of one tracking number are one parcel, through every door (docs/tracking-numbers.md).

The probe: a carrier pushed ``RX７４７628194CN`` (full-width digits) and a Cyrillic spelling, each became a
parcel of its own, and the page, which normalised the text to ``RX747628194CN``, showed none of those scans.
Every door now uses tracking.events.normalize_number: carrier pushes (every adapter, and ingestion as the
backstop), CSV, merchant registration and every public lookup.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from carriers import ADAPTERS
from tests.carriers.samples import sample_bytes
from tests.conftest import bearer
from tests.web.support import ago, parcel
from tests.web.test_native_feeds_e2e import SAMPLES, content_type, instants, minute, post
from tracking import models
from tracking.events import PayloadError

NUMBER = "RX747628194CN"
FULL_WIDTH = "RX７４７628194CN"  # digits 7, 4, 7 typed full width (U+FF17, U+FF14, U+FF17)
CYRILLIC = "RХ747628194СN"  # Х (U+0425) and С (U+0421): Cyrillic letters drawn like X and C
SPELLINGS = [NUMBER, FULL_WIDTH, CYRILLIC, "rх 747-628194 сn", "ＲＸ７４７６２８１９４ＣＮ"]
EVENTS = "/api/v1/carriers/acme_post/events"


def full_width(text: str) -> str:
    """``text`` with its ASCII letters and digits in their full-width forms."""
    return "".join(chr(ord(ch) + 0xFEE0) if ch.isascii() and ch.isalnum() else ch for ch in text)


def scan(number: str, hours: float, substatus: str = "departed", **location: object) -> dict[str, object]:
    return {
        "tracking_number": number,
        "status": "in_transit",
        "substatus": substatus,
        "occurred_at": ago(hours=hours).isoformat(),
        "location": {"name": "Shenzhen", "country": "CN", **location},
    }


def counts(app: Flask) -> tuple[int, list[str]]:
    with app.app_context():
        session = app.extensions["silkway.db"].session()
        try:
            parcels = session.scalar(select(func.count()).select_from(models.Parcel)) or 0
            numbers = list(session.scalars(select(models.Identifier.number).order_by(models.Identifier.id)))
            return parcels, numbers
        finally:
            session.close()


@pytest.fixture
def carrier(make_key: Callable[..., str]) -> dict[str, str]:
    return bearer(make_key("carrier", "acme_post"))


def test_three_spellings_pushed_land_on_one_parcel_and_every_spelling_finds_it(
    app: Flask, client: FlaskClient, carrier: dict[str, str]
) -> None:
    body = {"events": [scan(NUMBER, 30), scan(FULL_WIDTH, 20, "arrived"), scan(CYRILLIC, 10, "in_sorting")]}
    resp = client.post(EVENTS, json=body, headers=carrier)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["accepted"] == 3 and not resp.get_json()["rejected"]
    assert counts(app) == (1, [NUMBER])
    for spelling in SPELLINGS:
        view = client.get(f"/api/v1/parcels/{quote(spelling)}")
        assert view.status_code == 200, spelling
        assert view.get_json()["tracking_number"] == NUMBER
        assert view.get_json()["identifiers"] == [NUMBER]
        assert len(view.get_json()["events"]) == 3


def test_three_pushes_one_by_one_are_one_parcel(
    app: Flask, client: FlaskClient, carrier: dict[str, str]
) -> None:
    for hours, spelling in ((30, CYRILLIC), (20, FULL_WIDTH), (10, NUMBER)):
        resp = client.post(
            EVENTS,
            json={"events": [scan(spelling, hours, ("picked_up", "arrived", "departed")[hours // 10 - 1])]},
            headers=carrier,
        )
        assert resp.status_code == 200 and resp.get_json()["accepted"] == 1, resp.get_json()
    assert counts(app) == (1, [NUMBER])


def test_a_look_alike_of_a_scan_already_stored_is_a_duplicate(
    client: FlaskClient, carrier: dict[str, str]
) -> None:
    first = scan(NUMBER, 5)
    assert client.post(EVENTS, json={"events": [first]}, headers=carrier).get_json()["accepted"] == 1
    again = client.post(EVENTS, json={"events": [{**first, "tracking_number": CYRILLIC}]}, headers=carrier)
    assert again.get_json()["duplicates"] == 1


def test_linked_numbers_in_look_alike_spellings_join_the_same_parcel(
    app: Flask, client: FlaskClient, carrier: dict[str, str]
) -> None:
    event = {**scan("LP00123456789012", 5), "linked_numbers": [full_width(NUMBER)]}
    assert client.post(EVENTS, json={"events": [event]}, headers=carrier).status_code == 200
    assert (
        client.post(EVENTS, json={"events": [scan(CYRILLIC, 4, "arrived")]}, headers=carrier).status_code
        == 200
    )
    assert counts(app) == (1, ["LP00123456789012", NUMBER])


@pytest.mark.parametrize("spelling", SPELLINGS[1:])
def test_the_parcel_page_of_any_spelling_redirects_to_the_one_number(
    client: FlaskClient, carrier: dict[str, str], spelling: str
) -> None:
    client.post(EVENTS, json={"events": [scan(FULL_WIDTH, 5)]}, headers=carrier)
    resp = client.get(f"/track/{quote(spelling)}")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/track/{NUMBER}")
    page = client.get(f"/track/{NUMBER}")
    assert page.status_code == 200 and NUMBER in page.get_data(as_text=True)
    # The search box: one number however it is spelled, so straight to its page.
    search = client.get("/track", query_string={"numbers": f"{spelling}, {NUMBER}"})
    assert search.status_code == 302 and search.headers["Location"].endswith(f"/track/{NUMBER}")


def test_several_numbers_in_look_alike_spellings_are_each_found(
    client: FlaskClient, carrier: dict[str, str]
) -> None:
    other = "LX299455986CN"
    client.post(EVENTS, json={"events": [scan(NUMBER, 5), scan(other, 4)]}, headers=carrier)
    resp = client.get("/track", query_string={"numbers": f"{CYRILLIC}\n{full_width(other)}"})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert html.count('class="card parcel-row"') == 2 and "missing" not in html
    assert f"<code>{NUMBER}</code>" in html and f"<code>{other}</code>" in html


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_the_tracking_number_endpoint_reads_every_spelling_as_the_one_number(
    client: FlaskClient, spelling: str
) -> None:
    body = client.get(f"/api/v1/tracking-numbers/{quote(spelling)}").get_json()
    assert body["number"] == NUMBER and body["valid"] is True


def test_a_merchant_registration_in_a_look_alike_spelling_is_adopted_by_the_carriers_scans(
    app: Flask, client: FlaskClient, carrier: dict[str, str], make_key: Callable[..., str]
) -> None:
    shop = bearer(make_key("merchant", "Shop One"))
    resp = client.post("/api/v1/parcels", json={"parcels": [parcel("rх 747-628194 сn")]}, headers=shop)
    assert resp.status_code == 201, resp.get_json()
    client.post(EVENTS, json={"events": [scan(FULL_WIDTH, 5)]}, headers=carrier)
    assert counts(app) == (1, [NUMBER])
    own = client.get(f"/api/v1/merchant/parcels/{quote(CYRILLIC)}", headers=shop)
    assert own.status_code == 200, own.get_json()
    assert len(own.get_json()["events"]) == 1


def test_a_csv_import_in_look_alike_spellings_is_one_parcel(
    app: Flask, client: FlaskClient, make_key: Callable[..., str]
) -> None:
    key = make_key("carrier", "csv_co", "csv")
    rows = [
        "tracking_number,status,substatus,occurred_at,location_name,country",
        f"{FULL_WIDTH},in_transit,departed,{ago(hours=9).isoformat()},Shenzhen,CN",
        f"{CYRILLIC},in_transit,arrived,{ago(hours=8).isoformat()},Moscow,RU",
        f"{NUMBER},in_transit,in_sorting,{ago(hours=7).isoformat()},Moscow,RU",
    ]
    body = "\n".join(rows).encode()
    resp = client.post(
        "/api/v1/carriers/csv_co/events", data=body, content_type="text/csv", headers=bearer(key)
    )
    assert resp.status_code == 200 and resp.get_json()["accepted"] == 3, resp.get_json()
    assert counts(app) == (1, [NUMBER])


def test_a_number_outside_latin_letters_and_digits_is_refused_per_item(
    client: FlaskClient, carrier: dict[str, str]
) -> None:
    body = {"events": [scan("ЖЖ747628194CN", 5), scan(NUMBER, 4)]}
    resp = client.post(f"{EVENTS}?partial=true", json=body, headers=carrier).get_json()
    assert resp["accepted"] == 1
    assert [(r["index"], r["field"]) for r in resp["rejected"]] == [(0, "tracking_number")]


def _look_alike(raw: bytes, numbers: set[str]) -> bytes:
    """The sample with each of its numbers, where it stands as text, spelled in full-width characters."""
    for number in numbers:
        for left, right in (('"', '"'), (">", "<"), ("'", "'")):
            raw = raw.replace(
                f"{left}{number}{right}".encode(), f"{left}{full_width(number)}{right}".encode()
            )
    return raw


@pytest.mark.parametrize(("name", "fmt"), SAMPLES)
def test_every_adapter_reads_a_full_width_number_as_the_number(
    client: FlaskClient, make_key: Callable[..., str], name: str, fmt: str
) -> None:
    raw = sample_bytes(name)
    try:
        expected = ADAPTERS[fmt].parse(raw, content_type(name), f"{fmt}_co")
    except PayloadError:
        pytest.skip(f"{name} is not a payload of events")
    numbers = {e.tracking_number for e in expected.events} | {
        n for e in expected.events for n in e.linked_numbers
    }
    if not numbers:
        pytest.skip(f"{name} has no scans")
    twisted = _look_alike(raw, numbers)
    if twisted == raw:
        pytest.skip(f"{name} carries its numbers as JSON numbers only")
    reading = ADAPTERS[fmt].parse(twisted, content_type(name), f"{fmt}_co")
    assert [e.tracking_number for e in reading.events] == [e.tracking_number for e in expected.events]
    key = make_key("carrier", f"{fmt}_co", fmt)
    resp = post(client, key, f"{fmt}_co", twisted, content_type(name))
    assert resp.status_code == 200, resp.get_json()
    for number in {e.tracking_number for e in expected.events}:
        view = client.get(f"/api/v1/parcels/{number}").get_json()
        wanted = {
            (e.status.value, e.substatus, e.occurred_at_utc)
            for e in expected.events
            if e.tracking_number == number
        }
        assert {minute(x) for x in instants(view["events"])} == {minute(x) for x in wanted}
    # The original spelling of the same payload is the same scans: nothing new.
    again = post(client, key, f"{fmt}_co", raw, content_type(name)).get_json()
    assert again["accepted"] == 0, orjson.dumps(again)
