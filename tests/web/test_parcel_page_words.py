"""What /track/{n} says beyond the status, read through HTTP in Russian, English and Chinese on SQLite and
PostgreSQL: the delay notice and its reason, days in transit, identical scans folded, exchange offices in
the page's language, CDEK's dispatches inside Russia, and the unknown-number page keeping what was typed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.carriers.samples import sample_bytes
from tests.conftest import bearer
from tests.web.support import push_events
from web.eta.stalls import stall_threshold

NUMBER = "RX747628194CN"
LANGUAGES = {"ru": "ru-RU,ru;q=0.9", "en": "en", "zh": "zh-CN"}
SHEREMETYEVO = {"name": "MMPO Sheremetyevo", "country": "RU"}
SHENZHEN = {"name": "Shenzhen", "country": "CN"}


def ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


def scan(substatus: str, days_ago: float, location: dict[str, str], status: str = "in_transit", **extra: Any):
    return {
        "tracking_number": NUMBER,
        "status": status,
        "substatus": substatus,
        "occurred_at": ago(days_ago),
        "location": location,
        "description": extra.pop("description", substatus.replace("_", " ")),
        **extra,
    }


@pytest.fixture
def push(client: FlaskClient, make_key: Callable[..., str]) -> Callable[..., None]:
    key = make_key("carrier", "acme_post")

    def _push(*events: dict[str, Any]) -> None:
        push_events(client, key, "acme_post", list(events))

    return _push


def read(client: FlaskClient, lang: str, number: str = NUMBER) -> str:
    resp = client.get(f"/track/{number}", headers={"Accept-Language": LANGUAGES[lang]})
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def delay_box(html: str) -> str:
    return html.split('class="notice-box delay"', 1)[1].split("</div>", 1)[0]


def usual_days(app: Any) -> int:
    """The threshold the scheduler flags a parcel at Sheremetyevo's customs by, in whole days."""
    with app.app_context():
        session = app.extensions["silkway.db"].session()
        try:
            limit = stall_threshold(session)("ru_mmpo_sheremetyevo", "in_transit", "customs_processing")
        finally:
            session.close()
    return -(-limit // timedelta(days=1))


DELAY = {
    "ru": "Посылка 14 дней без новостей — последняя отметка: ММПО Шереметьево (Москва), Россия; "
    "обычно посылки уходят оттуда не позже чем через {usual}.",
    "en": "No news for 14 days at MMPO Sheremetyevo (Moscow), Russia; parcels usually move on from there "
    "within {usual}.",
    "zh": "包裹在俄罗斯谢列梅捷沃国际邮件处理中心（莫斯科）已 14 天没有新消息；"
    "通常包裹会在 {usual}内从那里发出。",
}
DAYS = {"ru": "{n} д", "en": "{n} day", "zh": "{n} 天"}  # the start of "2 дня", "5 дней", "2 days"


@pytest.mark.parametrize("lang", sorted(DELAY))
def test_a_parcel_silent_longer_than_usual_at_customs_says_so_with_its_reason(client, push, app, lang):
    push(scan("departed", 20, SHENZHEN), scan("customs_processing", 14, SHEREMETYEVO))
    usual = usual_days(app)
    assert 1 <= usual < 14  # the learned threshold (p95 dwell and a half-day), not the fixed 10 days
    box = delay_box(read(client, lang))
    before, after = DELAY[lang].split("{usual}")
    assert before in box
    assert box.split(before, 1)[1].startswith(DAYS[lang].format(n=usual)) and after in box


def test_a_parcel_that_moved_recently_has_no_delay_notice(client, push):
    push(scan("departed", 3, SHENZHEN), scan("customs_processing", 0.2, SHEREMETYEVO))
    assert 'class="notice-box delay"' not in read(client, "en")


@pytest.mark.parametrize(
    ("lang", "place"),
    [
        ("ru", "ММПО Шереметьево (Москва)"),
        ("en", "MMPO Sheremetyevo (Moscow)"),
        ("zh", "谢列梅捷沃国际邮件处理中心（莫斯科）"),
    ],
)
def test_exchange_offices_are_named_in_the_pages_language(client, push, lang, place):
    push(scan("departed", 3, SHENZHEN), scan("arrived_destination_country", 0.5, SHEREMETYEVO))
    html = read(client, lang)
    assert place in html.split('class="timeline"', 1)[1]
    assert place in html.split('class="latest"', 1)[1].split("</p>", 1)[0]


TRANSIT = {"ru": "9 дней в пути", "en": "9 days in transit", "zh": "已运输 9 天"}
DELIVERED = {"ru": "Доставлена за 12 дней", "en": "Delivered in 12 days", "zh": "12 天送达"}


@pytest.mark.parametrize("lang", sorted(TRANSIT))
def test_days_in_transit_count_from_the_first_scan_of_the_parcel_moving(client, push, lang):
    label = scan("label_created", 15, SHENZHEN, status="info_received")  # a label is not the journey
    push(label, scan("picked_up", 9.2, SHENZHEN), scan("departed", 0.5, SHENZHEN))
    assert f'<p class="journey">{TRANSIT[lang]}</p>' in read(client, lang)


@pytest.mark.parametrize("lang", sorted(DELIVERED))
def test_a_delivered_parcel_says_in_how_many_days(client, push, lang):
    push(
        scan("picked_up", 30, SHENZHEN),
        scan("recipient", 18, {"name": "Moscow", "country": "RU"}, status="delivered"),
    )
    html = read(client, lang)
    assert f'<p class="journey">{DELIVERED[lang]}</p>' in html
    assert 'class="notice-box delay"' not in html


def test_consecutive_identical_scans_are_shown_once_with_their_count(client, push):
    push(
        scan("departed", 5, SHENZHEN),
        *(scan("in_sorting", d, SHEREMETYEVO, description="Sorting") for d in (3, 2.5, 2)),
        scan("departed", 1, SHEREMETYEVO),
    )
    timeline = read(client, "en").split('class="timeline"', 1)[1]
    assert timeline.count("<li ") == 3  # departed, sorting (three scans), departed
    assert timeline.count("Being sorted") == 1
    assert "3 identical scans since" in timeline
    ru = read(client, "ru").split('class="timeline"', 1)[1]
    assert "3 одинаковые отметки с" in ru


CDEK_WORDS = {"ru": "Покинула", "en": "Left a facility", "zh": "离开"}
ABROAD = {"ru": "страну назначения", "en": "destination country", "zh": "目的国"}


@pytest.mark.parametrize("lang", sorted(CDEK_WORDS))
def test_a_cdek_dispatch_to_the_recipients_city_in_russia_is_not_the_international_leg(
    client, make_key, lang
):
    key = make_key("carrier", "cdek")
    raw = (
        sample_bytes("cdek_v2_webhook_ORDER_STATUS.json")
        .replace(b'"code": "DELIVERED"', b'"code": "SENT_TO_RECIPIENT_CITY"')
        .replace(b'"status_code": "4"', b'"status_code": "8"')
    )
    resp = client.post(
        "/api/v1/carriers/cdek/events", data=raw, content_type="application/json", headers=bearer(key)
    )
    assert resp.status_code == 200 and resp.get_json()["accepted"] == 1
    html = read(client, lang, "1106153417")
    assert ABROAD[lang] not in html
    assert CDEK_WORDS[lang] in html.split("<h1", 1)[1].split("</h1>", 1)[0]
    assert "Отправлен в г. получатель" in html  # CDEK's own words stay beside ours


def test_the_unknown_number_page_keeps_what_was_typed_in_the_search_box(client):
    resp = client.get("/track/RX000000000CN", headers={"Accept-Language": "en"})
    assert resp.status_code == 404
    assert 'value="RX000000000CN"' in resp.get_data(as_text=True)
    resp = client.get("/track/not%20a%20number!", headers={"Accept-Language": "en"})
    assert resp.status_code == 400
    assert 'value="not a number!"' in resp.get_data(as_text=True)
