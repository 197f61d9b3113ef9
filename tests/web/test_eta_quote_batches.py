"""Batches of quotes over HTTP: each answer equals the quote asked alone; failures name item and field."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.web.test_eta_api import QUOTE, _fresh_engine, quote  # noqa: F401 (an autouse fixture)
from web.eta.engine import forget_engine

# Ids and names (Russian too), duplicates, one lane at several times, Chinese New Year and the Russian
# January holidays, other offsets.
BATCH = [
    QUOTE,
    {**QUOTE, "destination": "Новосибирск", "service": "economy_rail"},
    {**QUOTE, "origin": "cn_yiwu", "destination": "ru_kazan", "service": "premium_air"},
    QUOTE,
    {**QUOTE, "ship_at": "2027-02-01T09:00:00+08:00"},
    {**QUOTE, "ship_at": "2026-12-28T18:00:00+03:00"},
    {**QUOTE, "origin": "Yiwu", "service": "economy_rail", "ship_at": "2026-10-05T02:00:00+00:00"},
    {**QUOTE, "destination": "Vladivostok", "service": "sea_rail_far_east"},
    {**QUOTE, "ship_at": "2026-10-05T10:00:01+08:00"},
]


def test_each_quote_of_a_batch_equals_the_quote_asked_alone(client, make_key):
    key = make_key("merchant", "Shenzhen Gadgets")
    resp = quote(client, key, {"quotes": BATCH})
    assert resp.status_code == 200, resp.get_json()
    answers = resp.get_json()["quotes"]
    assert len(answers) == len(BATCH)
    for asked, answer in zip(BATCH, answers, strict=True):
        forget_engine()  # nothing the batch cached helps the single quote
        alone = quote(client, key, asked)
        assert alone.status_code == 200
        assert answer == alone.get_json()
        assert datetime.fromisoformat(answer["ship_at"]) == datetime.fromisoformat(asked["ship_at"])
    assert answers[0] == answers[3]
    assert answers[0]["p50"] != answers[4]["p50"]


def test_a_bare_list_answers_like_the_quotes_object(client, make_key):
    key = make_key("merchant", "Shenzhen Gadgets")
    assert quote(client, key, BATCH[:4]).get_json() == quote(client, key, {"quotes": BATCH[:4]}).get_json()


def test_quotes_without_ship_at_share_the_request_time(client, make_key):
    key = make_key("merchant", "Shenzhen Gadgets")
    undated = {k: v for k, v in QUOTE.items() if k != "ship_at"}
    before = datetime.now().astimezone()
    answers = quote(client, key, [undated, {**undated, "origin": "Yiwu"}, undated]).get_json()["quotes"]
    times = {datetime.fromisoformat(answer["ship_at"]) for answer in answers}
    assert len(times) == 1
    assert before <= times.pop() <= datetime.now().astimezone() + timedelta(seconds=1)
    assert answers[0] == answers[2]


def test_a_mixed_batch_names_every_failing_item_and_field(client, make_key):
    key = make_key("merchant", "Shenzhen Gadgets")
    batch = [
        QUOTE,
        {**QUOTE, "destination": "Atlantis"},
        QUOTE,
        {**QUOTE, "ship_at": "soon"},
        {**QUOTE, "origin": "Moscow", "destination": "Novosibirsk"},
        "not an object",
        {**QUOTE, "service": "teleport"},
        {**QUOTE, "origin": None},
        {**QUOTE, "destination": "Atlantis"},
    ]
    resp = quote(client, key, {"quotes": batch})
    assert resp.status_code == 422
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json()
    found = [(e["index"], e["field"]) for e in body["errors"]]
    assert found == [
        (1, "destination"),
        (3, "ship_at"),
        (4, "destination"),
        (5, None),
        (6, "service"),
        (7, "origin"),
        (8, "destination"),
    ]
    assert all(e["error"] for e in body["errors"])
    assert "Atlantis" in body["errors"][0]["error"]
    assert body["detail"].startswith("item 1: ") and "6 more" in body["detail"]
    assert body["invalid"] == 7 and body["requested"] == len(batch)
    assert "quotes" not in body


def test_a_batch_with_a_bad_item_is_refused_before_any_sampling(client, make_key, monkeypatch):
    def no_sampling(*_args):
        raise AssertionError("a refused batch samples nothing")

    monkeypatch.setattr("routing.eta.plan_quantiles", no_sampling)
    resp = quote(client, make_key("merchant", "Shenzhen Gadgets"), [QUOTE, {**QUOTE, "origin": "Gotham"}])
    assert resp.status_code == 422
    assert resp.get_json()["errors"] == [
        {"index": 1, "field": "origin", "error": "origin: unknown place 'Gotham'"}
    ]


def test_one_bad_quote_alone_is_a_422_for_item_zero(client, make_key):
    key = make_key("merchant", "Shenzhen Gadgets")
    body = quote(client, key, {**QUOTE, "service": "teleport"}).get_json()
    assert body["status"] == 422
    message = "service: unknown service 'teleport'"
    assert body["errors"] == [{"index": 0, "field": "service", "error": message}]
    assert body["detail"] == f"item 0: {message}"
