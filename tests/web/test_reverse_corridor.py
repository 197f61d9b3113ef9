"""Russia → China (issue 17): a parcel from Yekaterinburg through Moscow to Shanghai import customs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from tests.conftest import bearer
from web.eta.engine import forget_engine

NUMBER = "RA123456785RU"


def _scan(substatus: str, at: datetime, place: str, country: str) -> dict[str, object]:
    return {"tracking_number": NUMBER, "status": "in_transit", "substatus": substatus,
            "occurred_at": at.isoformat(), "location": {"name": place, "country": country}}


@pytest.fixture
def at_shanghai_customs(client, make_key):
    """Posted in Yekaterinburg nine days ago, through Moscow, at Shanghai import customs for a day."""
    forget_engine()
    start = datetime.now(UTC) - timedelta(days=9)
    events = [
        _scan("picked_up", start, "Екатеринбург", "RU"),
        _scan("departed", start + timedelta(days=3), "Москва", "RU"),
        _scan("customs_processing", start + timedelta(days=8), "上海国际邮件互换局", "CN"),
    ]
    resp = client.post("/api/v1/carriers/acme_post/events", data=orjson.dumps({"events": events}),
                       content_type="application/json", headers=bearer(make_key("carrier", "acme_post")))
    assert resp.status_code == 200, resp.get_json()
    yield start
    forget_engine()


def test_an_inflight_russian_parcel_is_bound_for_a_chinese_city(client, at_shanghai_customs):
    as_of = datetime.now(UTC).replace(microsecond=0)
    resp = client.get(f"/api/v1/parcels/{NUMBER}/eta", query_string={"as_of": as_of.isoformat()})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    p10, p50, p90 = (datetime.fromisoformat(body[k]) for k in ("p10", "p50", "p90"))
    assert as_of < p10 < p50 < p90
    assert body["route"][0] == "cn_imx_shanghai" and body["route"][-1].startswith("cn_")
    assert body["service"] == "ru_cn_post_air"
    assert all(c["destination"].startswith("cn_") for c in body["candidates"])


def test_the_chinese_shoppers_page_names_shanghai(client, at_shanghai_customs):
    html = client.get(f"/track/{NUMBER}?lang=zh").get_data(as_text=True)
    # Last seen at Shanghai's exchange office, come from Yekaterinburg through Moscow, all in Chinese.
    assert "上海" in html and "上海国际邮件互换局" in html
    assert "叶卡捷琳堡" in html and "莫斯科" in html


def test_a_registered_destination_ends_the_route_in_shanghai(client, make_key, at_shanghai_customs):
    key = make_key("merchant", "Ural Honey")
    resp = client.post("/api/v1/eta/quotes", data=orjson.dumps({
        "origin": "Yekaterinburg", "destination": "Shanghai", "service": "ru_cn_post_air",
        "ship_at": at_shanghai_customs.isoformat()}), content_type="application/json", headers=bearer(key))
    assert resp.status_code == 200, resp.get_json()
    route = resp.get_json()["route"]
    assert route[0] == "ru_yekaterinburg" and route[-2:] == ["cn_imx_shanghai", "cn_shanghai"]
