"""ETA through the HTTP API and the CLI: parcel ETAs, quotes, services, refresh and backtest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from tests.conftest import bearer
from web.eta.engine import forget_engine

QUOTE = {
    "origin": "Shenzhen",
    "destination": "Moscow",
    "service": "standard_air",
    "ship_at": "2026-10-05T10:00:00+08:00",
}


@pytest.fixture(autouse=True)
def _fresh_engine():
    forget_engine()
    yield
    forget_engine()


def quote(client, key, body):
    return client.post(
        "/api/v1/eta/quotes", data=orjson.dumps(body), content_type="application/json", headers=bearer(key)
    )


def test_single_quote_gives_ordered_quantiles_and_route(client, make_key):
    key = make_key("merchant", "Shenzhen Gadgets")
    resp = quote(client, key, QUOTE)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    p10, p50, p90 = (datetime.fromisoformat(body[k]) for k in ("p10", "p50", "p90"))
    ship = datetime.fromisoformat(QUOTE["ship_at"])
    assert ship < p10 <= p50 <= p90 < ship + timedelta(days=60)
    assert body["route"][0] == "cn_shenzhen" and body["model"]["version"]


def test_batch_of_quotes_answers_in_order(client, make_key):
    key = make_key("merchant", "Shenzhen Gadgets")
    batch = [
        QUOTE,
        {**QUOTE, "destination": "Новосибирск", "service": "economy_rail"},
        {**QUOTE, "origin": "Yiwu"},
    ]
    body = quote(client, key, {"quotes": batch}).get_json()
    assert len(body["quotes"]) == 3
    assert body["quotes"][1]["service"] == "economy_rail"
    assert body["quotes"][2]["route"][0] == "cn_yiwu"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"destination": "Atlantis"}, "destination"),
        ({"origin": "Gotham"}, "origin"),
        ({"service": "teleport"}, "service"),
        ({"ship_at": "soon"}, "ship_at"),
        ({"origin": None}, "origin"),
    ],
)
def test_bad_quote_is_a_422_naming_item_and_field(client, make_key, change, field):
    key = make_key("merchant", "Shenzhen Gadgets")
    resp = quote(client, key, {"quotes": [QUOTE, {**QUOTE, **change}]})
    assert resp.status_code == 422
    [error] = resp.get_json()["errors"]
    assert error["index"] == 1 and error["field"] == field


def test_impossible_route_is_a_422(client, make_key):
    key = make_key("merchant", "Shenzhen Gadgets")
    resp = quote(client, key, {**QUOTE, "origin": "Moscow", "destination": "Novosibirsk"})
    assert resp.status_code == 422


def test_quotes_need_a_merchant_key(client, make_key):
    assert quote(client, "nope", QUOTE).status_code == 401
    assert quote(client, make_key("carrier", "acme_post"), QUOTE).status_code == 403


def test_more_than_a_thousand_quotes_are_refused(client, make_key):
    resp = quote(client, make_key("merchant", "Big Shop"), [QUOTE] * 1001)
    assert resp.status_code == 413


def test_services_list_names_routes(client):
    services = client.get("/api/v1/services").get_json()["services"]
    codes = {s["code"] for s in services}
    assert {"premium_air", "standard_air", "economy_rail", "sea_rail_far_east"} <= codes
    assert all(s["legs"] and s["mode"] for s in services)


def _push_journey(client, key, number="RX747628194CN", days_ago=6):
    start = datetime.now(UTC) - timedelta(days=days_ago)
    events = [
        {
            "tracking_number": number,
            "status": "in_transit",
            "substatus": "picked_up",
            "occurred_at": start.isoformat(),
            "location": {"name": "Shenzhen", "country": "CN"},
        },
        {
            "tracking_number": number,
            "status": "in_transit",
            "substatus": "departed",
            "occurred_at": (start + timedelta(days=1)).isoformat(),
            "location": {"name": "Shenzhen", "country": "CN"},
        },
        {
            "tracking_number": number,
            "status": "in_transit",
            "substatus": "customs_processing",
            "occurred_at": (start + timedelta(days=4)).isoformat(),
            "location": {"name": "Moscow", "country": "RU"},
        },
    ]
    resp = client.post(
        "/api/v1/carriers/acme_post/events",
        data=orjson.dumps({"events": events}),
        content_type="application/json",
        headers=bearer(key),
    )
    assert resp.status_code == 200, resp.get_json()
    return start


def test_parcel_eta_is_in_the_future_of_its_last_scan(client, make_key):
    start = _push_journey(client, make_key("carrier", "acme_post"))
    resp = client.get("/api/v1/parcels/RX747628194CN/eta")
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert datetime.fromisoformat(body["p10"]) > start + timedelta(days=4)
    assert body["p10"] <= body["p50"] <= body["p90"]
    # The parcel view carries the same prediction (asked a moment later, so allow that moment).
    in_view = client.get("/api/v1/parcels/RX747628194CN").get_json()["eta"]
    gap = datetime.fromisoformat(in_view["p50"]) - datetime.fromisoformat(body["p50"])
    assert abs(gap) < timedelta(minutes=5)


def test_a_fresh_service_answers_a_parcel_at_moscow_customs_from_the_network_prior(client, make_key):
    # No model learned yet and no destination: the last scan is "Moscow, customs processing", two days ago.
    _push_journey(client, make_key("carrier", "acme_post"))
    as_of = datetime.now(UTC).replace(microsecond=0)
    resp = client.get("/api/v1/parcels/RX747628194CN/eta", query_string={"as_of": as_of.isoformat()})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    p10, p50, p90 = (datetime.fromisoformat(body[k]) for k in ("p10", "p50", "p90"))
    assert p50 > as_of and p90 - p10 >= timedelta(hours=24)
    assert body["model"]["learned_from"] == 0
    assert len({c["destination"] for c in body["candidates"]}) > 1
    # Why, in words: where it counts from, with what that takes.
    first = body["factors"][0]
    assert first["code"] == "from_here" and first["params"]["place"] == "ru_mmpo_sheremetyevo"
    assert first["text"].startswith("Time to arrival from MMPO Sheremetyevo")
    assert abs(first["effect_hours"] - (p50 - as_of).total_seconds() / 3600) < 0.1


def test_eta_as_of_ignores_later_events(client, make_key):
    start = _push_journey(client, make_key("carrier", "acme_post"))
    early = (start + timedelta(hours=12)).isoformat()
    body = client.get("/api/v1/parcels/RX747628194CN/eta", query_string={"as_of": early}).get_json()
    assert body["as_of"] == datetime.fromisoformat(early).astimezone(UTC).isoformat()
    assert "ru_moscow" not in body["route"][:1]


def test_eta_of_unknown_parcel_is_404_and_bad_as_of_is_422(client, make_key):
    assert client.get("/api/v1/parcels/LX299455986CN/eta").status_code == 404
    _push_journey(client, make_key("carrier", "acme_post"))
    resp = client.get("/api/v1/parcels/RX747628194CN/eta?as_of=yesterday")
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "as_of"


def test_eta_refresh_cli_stores_a_model_that_answers_name(app, client, make_key):
    _push_journey(client, make_key("carrier", "acme_post"))
    result = app.test_cli_runner().invoke(args=["eta", "refresh"])
    assert result.exit_code == 0, result.output
    assert "learned from" in result.output and "milestone curves from 1 parcels" in result.output
    forget_engine()
    version = result.output.split()[1]
    assert client.get("/api/v1/parcels/RX747628194CN/eta").get_json()["model"]["version"] == version


def test_backtest_cli_refuses_an_empty_history(app):
    result = app.test_cli_runner().invoke(args=["eta", "backtest"])
    assert result.exit_code != 0
    assert "no parcels" in result.output


def test_eta_revisions_are_stored_once_until_the_estimate_moves(app, client, make_key):
    from sqlalchemy import func, select

    from tracking import models
    from web.worker.eta_jobs import revise_etas_job

    _push_journey(client, make_key("carrier", "acme_post"))
    now = datetime.now(UTC)
    revise_etas_job(app, now)
    revise_etas_job(app, now + timedelta(minutes=1))
    with app.app_context():
        session = app.extensions["silkway.db"].session()
        revisions = session.scalars(select(models.EtaRevision)).all()
        assert len(revisions) == 1
        assert revisions[0].p10 <= revisions[0].p50 <= revisions[0].p90
        assert session.scalar(select(func.count()).select_from(models.EtaModel)) == 0
        session.close()


def test_eta_refresh_learns_from_an_evenly_spread_sample_when_the_history_is_large(app, client, make_key):
    carrier = make_key("carrier", "acme_post")
    for i in range(6):
        number = f"RX{i:08d}0CN"
        body = {"events": [{"tracking_number": number, "status": "in_transit", "substatus": "departed",
                            "occurred_at": "2026-10-20T08:31:00+08:00",
                            "location": {"name": "Shenzhen", "country": "CN"}}]}
        response = client.post("/api/v1/carriers/acme_post/events", json=body, headers=bearer(carrier))
        assert response.status_code == 200
    app.config["LEARNING_MAX_PARCELS"] = 3
    result = app.test_cli_runner().invoke(args=["eta", "refresh"])
    assert result.exit_code == 0, result.output
    assert "milestone curves from 3 parcels" in result.output


def test_a_parcel_ready_for_collection_has_arrived_at_that_moment(client, make_key):
    key = make_key("carrier", "acme_post")
    _push_journey(client, key)
    ready = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=5)
    event = {"tracking_number": "RX747628194CN", "status": "available_for_pickup", "substatus": "post_office",
             "occurred_at": ready.isoformat(), "location": {"name": "Moscow", "country": "RU"}}
    resp = client.post("/api/v1/carriers/acme_post/events", json={"events": [event]}, headers=bearer(key))
    assert resp.status_code == 200, resp.get_json()
    body = client.get("/api/v1/parcels/RX747628194CN/eta").get_json()
    assert {datetime.fromisoformat(body[k]) for k in ("p10", "p50", "p90")} == {ready}
    earlier = (ready - timedelta(hours=1)).isoformat()
    before = client.get("/api/v1/parcels/RX747628194CN/eta", query_string={"as_of": earlier})
    assert datetime.fromisoformat(before.get_json()["p50"]) >= ready - timedelta(hours=1)  # not arrived yet
    assert datetime.fromisoformat(before.get_json()["p90"]) != ready


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--refit-days", "-1"], "--refit-days"),
        (["--test-days", "0"], "--test-days"),
        (["--settle-days", "x"], "--settle-days"),
        (["--split-at", "2026-10-01T00:00:00"], "UTC offset"),
    ],
)
def test_backtest_cli_names_a_bad_option(app, args, message):
    result = app.test_cli_runner().invoke(args=["eta", "backtest", *args])
    assert result.exit_code == 2 and message in result.output


def test_services_list_both_directions_with_their_countries(client):
    services = client.get("/api/v1/services").get_json()["services"]
    pairs = {(s["origin_country"], s["destination_country"]) for s in services}
    assert pairs == {("CN", "RU"), ("RU", "CN")}
    reverse = {s["code"] for s in services if s["origin_country"] == "RU"}
    assert {"ru_cn_post_air", "ru_cn_post_land"} <= reverse


def test_a_russian_merchants_quote_moscow_to_shanghai_fits_the_reported_transit(client, make_key):
    # Reported average transit of Russian Post exports to China: 15-18 days (2023, network_reverse.json).
    key = make_key("merchant", "Moscow Honey")
    ship = datetime(2026, 10, 5, 10, tzinfo=UTC)
    body = {"origin": "Москва", "destination": "上海", "service": "ru_cn_post_air",
            "ship_at": ship.isoformat()}
    resp = quote(client, key, body)
    assert resp.status_code == 200, resp.get_json()
    answer = resp.get_json()
    p10, p50, p90 = (datetime.fromisoformat(answer[k]) for k in ("p10", "p50", "p90"))
    assert ship < p10 < p50 < p90
    assert timedelta(days=12) <= p50 - ship <= timedelta(days=18)
    assert p10 - ship <= timedelta(days=15) and p90 - ship >= timedelta(days=18)
    assert answer["route"][0] == "ru_moscow" and answer["route"][-1] == "cn_shanghai"
    assert "cn_imx_shanghai" in answer["route"]
    # A China → Russia service has no route into China.
    assert quote(client, key, {**body, "service": "premium_air"}).status_code == 422
