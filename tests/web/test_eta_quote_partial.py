"""Quotes with ?partial=true answer the good requests and list the bad ones; a lane without a route names
the services and origins that would work."""

from __future__ import annotations

from tests.conftest import bearer
from tests.web.test_eta_api import QUOTE, _fresh_engine, quote  # noqa: F401 (an autouse fixture)


def quote_partial(client, key, body):
    return client.post("/api/v1/eta/quotes?partial=true", json=body, headers=bearer(key))


def test_partial_answers_the_good_quotes_and_lists_the_bad(client, make_key):
    key = make_key("merchant", "Shenzhen Gadgets")
    batch = [
        QUOTE,
        {**QUOTE, "destination": "Atlantis"},
        {**QUOTE, "origin": "Yiwu"},
        {**QUOTE, "service": "teleport"},
        {**QUOTE, "ship_at": "2001-01-01T00:00:00Z"},
    ]
    resp = quote_partial(client, key, batch)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert [q["index"] for q in body["quotes"]] == [0, 2]
    rejected = {(r["index"], r["field"]) for r in body["rejected"]}
    assert rejected == {(1, "destination"), (3, "service"), (4, "ship_at")}
    alone = quote(client, key, QUOTE).get_json()
    assert {k: v for k, v in body["quotes"][0].items() if k != "index"} == alone
    # without partial the same batch is refused whole
    refused = quote(client, key, batch)
    assert refused.status_code == 422 and len(refused.get_json()["errors"]) == 3


def test_a_malformed_item_fails_the_batch_even_with_partial(client, make_key):
    key = make_key("merchant", "Shenzhen Gadgets")
    for bad in ([None], {**QUOTE, "service": ""}, {**QUOTE, "ship_at": "soon"}):
        resp = quote_partial(client, key, [QUOTE, bad] if isinstance(bad, dict) else [QUOTE, *bad])
        assert resp.status_code == 422, resp.get_json()
        assert [e["index"] for e in resp.get_json()["errors"]] == [1]


def test_partial_with_every_item_good_or_bad(client, make_key):
    key = make_key("merchant", "Shenzhen Gadgets")
    good = quote_partial(client, key, [QUOTE]).get_json()
    assert len(good["quotes"]) == 1 and good["rejected"] == []
    bad = quote_partial(client, key, [{**QUOTE, "service": "teleport"}])
    assert bad.status_code == 200 and bad.get_json()["quotes"] == []
    assert bad.get_json()["rejected"][0]["field"] == "service"


def test_no_route_names_the_services_and_origins_that_would_work(client, make_key):
    key = make_key("merchant", "Moscow Honey")
    ask = {"origin": "Москва", "destination": "上海", "service": "premium_air", "ship_at": QUOTE["ship_at"]}
    resp = quote(client, key, ask)
    assert resp.status_code == 422
    [error] = resp.get_json()["errors"]
    assert error["field"] == "destination"
    assert "ru_cn_post_air" in error["services"] and "premium_air" not in error["services"]
    assert "ru_cn_post_air" in error["error"]
    # premium_air carries China to Russia: into Shanghai it goes from nowhere
    assert error["origins"] == []
    wrong_way = {**QUOTE, "origin": "Москва"}  # standard_air from Moscow to Moscow's region
    error = quote(client, key, wrong_way).get_json()["errors"][0]
    assert "cn_shenzhen" in error["origins"] and "cn_shenzhen" in error["error"]


def test_a_malformed_partial_is_named(client, make_key):
    key = make_key("merchant", "Shenzhen Gadgets")
    for query in ("?partial=maybe", "?partial=true&partial=false"):
        resp = client.post(f"/api/v1/eta/quotes{query}", json=QUOTE, headers=bearer(key))
        assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "partial"
