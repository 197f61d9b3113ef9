"""The shoppers' pages through HTTP: /, /track/<number>, /track?numbers=..., languages, limits, headers."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any

import orjson
import pytest
from babel.dates import format_interval
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import bearer, plain_dashes
from tracking import models
from tracking.statuses import SUBSTATUSES
from web import create_app

NUMBER = "RX747628194CN"
RU = {"Accept-Language": "ru-RU,ru;q=0.9"}


def scan(
    status: str,
    substatus: str,
    at: str,
    place: tuple[str, str, float, float] = ("Shenzhen", "CN", 22.54554, 114.0683),
    description: str = "Departed from sorting centre",
    number: str = NUMBER,
    **extra: Any,
) -> dict[str, Any]:
    name, country, lat, lon = place
    return {
        "tracking_number": number,
        "status": status,
        "substatus": substatus,
        "occurred_at": at,
        "location": {"name": name, "country": country, "lat": lat, "lon": lon},
        "description": description,
        **extra,
    }


JOURNEY = [
    scan("in_transit", "departed", "2026-10-20T08:31:00+08:00"),
    scan(
        "in_transit",
        "customs_processing",
        "2026-10-24T10:00:00+07:00",
        place=("Novosibirsk", "RU", 55.0126, 82.6507),
        description="Приём на таможню",
    ),
]


@pytest.fixture
def push(client: FlaskClient, make_key: Callable[..., str]) -> Callable[..., None]:
    """Ingest canonical events as the carrier acme_post would."""
    key = make_key("carrier", "acme_post")

    def _push(*events: dict[str, Any]) -> None:
        resp = client.post(
            "/api/v1/carriers/acme_post/events",
            data=orjson.dumps({"events": list(events)}),
            content_type="application/json",
            headers=bearer(key),
        )
        assert resp.status_code == 200, resp.get_json()

    return _push


@pytest.fixture
def journey(push: Callable[..., None]) -> None:
    """One parcel that left Shenzhen and is in Russian customs."""
    push(*JOURNEY)


def page(client: FlaskClient, path: str, **headers: str) -> tuple[int, str]:
    resp = client.get(path, headers=headers or RU)
    return resp.status_code, resp.get_data(as_text=True)


def fake_eta(app: Flask, answer: Callable[..., Any]) -> None:
    """Stand in for the ETA service with ``answer(session, view)`` (the app's ETA_PROVIDER)."""
    app.config["ETA_PROVIDER"] = answer


def test_tracking_page_shows_status_in_plain_russian_by_default(client, journey):
    status, html = page(client, f"/track/{NUMBER}", **{"Accept-Language": ""})
    assert status == 200
    assert '<html lang="ru">' in html
    assert "Проходит таможенное оформление" in html.split("</h1>")[0]


def test_timeline_is_newest_first_with_local_times_and_places(client, journey):
    _, html = page(client, f"/track/{NUMBER}")
    timeline = html.split('class="timeline"')[1]
    assert timeline.index("Проходит таможенное оформление") < timeline.index("Покинула сортировочный центр")
    assert 'datetime="2026-10-20T08:31:00+08:00"' in timeline and "08:31" in timeline and "UTC+8" in timeline
    assert 'datetime="2026-10-24T10:00:00+07:00"' in timeline and "UTC+7" in timeline
    assert "Россия" in timeline and "Китай" in timeline


def test_carrier_original_text_is_shown_beside_translated_status(client, journey):
    _, html = page(client, f"/track/{NUMBER}", **{"Accept-Language": "en"})
    assert "Customs clearance in progress" in html and "Приём на таможню" in html
    assert "Left a facility" in html and "Departed from sorting centre" in html


@pytest.mark.parametrize(("lang", "script"), [("ru", "[а-яё]"), ("zh", "[\u4e00-\u9fff]")])
def test_every_canonical_status_has_its_own_wording(client, push, lang, script):
    pairs = [(status.value, sub) for status, subs in SUBSTATUSES.items() for sub in subs]
    push(
        *(
            scan(st, sub, f"2026-10-{1 + i // 24:02d}T{i % 24:02d}:00:00+08:00", description="")
            for i, (st, sub) in enumerate(pairs)
        )
    )
    _, html = page(client, f"/track/{NUMBER}?lang={lang}")
    words = re.findall(r'<p class="words">(.*?)</p>', html)
    assert len(words) == len(pairs)
    assert [w for w in words if not re.search(script, w, re.I)] == []


def test_accept_language_english_gives_english_page(client, journey):
    _, html = page(client, f"/track/{NUMBER}", **{"Accept-Language": "en-GB,en;q=0.8"})
    assert '<html lang="en">' in html and "Customs clearance in progress" in html and "History" in html


def test_accept_language_chinese_gives_chinese_page(client, journey):
    _, html = page(client, f"/track/{NUMBER}", **{"Accept-Language": "zh-CN,zh;q=0.9"})
    assert '<html lang="zh-Hans">' in html and "正在清关" in html and "物流记录" in html


def test_lang_parameter_wins_and_is_remembered_in_a_cookie(client, journey):
    resp = client.get(f"/track/{NUMBER}?lang=zh", headers={"Accept-Language": "en"})
    assert "正在清关" in resp.get_data(as_text=True)
    assert "silkway_lang=zh" in resp.headers["Set-Cookie"]
    _, html = page(client, f"/track/{NUMBER}", **{"Accept-Language": "en"})
    assert "正在清关" in html


def test_language_switch_links_stay_on_the_same_page(client, journey):
    _, html = page(client, f"/track/{NUMBER}")
    assert f'href="/track/{NUMBER}?lang=en"' in html and f'href="/track/{NUMBER}?lang=zh"' in html


def test_all_numbers_of_the_parcel_are_listed(client, push):
    push(
        scan(
            "info_received",
            "label_created",
            "2026-10-19T10:00:00+08:00",
            number="LP00123456789012",
            linked_numbers=[NUMBER],
        )
    )
    push(*JOURNEY)
    status, html = page(client, "/track/LP00123456789012")
    numbers = html.split('class="numbers"')[1]
    assert status == 200 and "LP00123456789012" in numbers and NUMBER in numbers


def test_search_for_one_number_goes_to_its_page(client, journey):
    resp = client.get("/track?numbers=%20rx747628194cn%20", headers=RU)
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/track/{NUMBER}")


def test_number_typed_with_spaces_and_lower_case_redirects_to_normal_form(client, journey):
    resp = client.get("/track/rx 747-628-194 cn", headers=RU)
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/track/{NUMBER}")


def test_several_numbers_at_once_show_each_status(client, journey):
    status, html = page(client, f"/track?numbers={NUMBER},+LP99999999999999;AE010698498")
    assert status == 200
    assert NUMBER in html and "Проходит таможенное оформление" in html
    assert "LP99999999999999" in html and "AE010698498" in html
    assert html.count("Пока нет сведений о посылке") == 2


def test_too_many_numbers_at_once_is_refused(client):
    numbers = ",".join(f"LP{i:014d}" for i in range(11))
    status, html = page(client, f"/track?numbers={numbers}")
    assert status == 400 and "не больше 10" in html


def test_empty_search_asks_for_a_number(client):
    status, html = page(client, "/track?numbers=")
    assert status == 400 and "Введите трек-номер" in html


def test_unknown_well_formed_number_gets_404_with_candidates(client):
    status, html = page(client, f"/track/{NUMBER}")
    assert status == 404
    assert "Пока нет сведений о посылке" in html
    assert "Почта Китая" in html  # the S10 number's issuer
    assert "LP00123456789012" in html  # the formats we know, with examples
    assert "Traceback" not in html


def test_unknown_number_with_wrong_check_digit_says_probably_a_typo(client):
    status, html = page(client, "/track/RX747628195CN", **{"Accept-Language": "en"})
    assert status == 404 and "probably a typo" in html


def test_malformed_number_gets_400_with_what_numbers_look_like(client):
    status, html = page(client, "/track/%D0%BF%D1%80%D0%B8%D0%B2%D0%B5%D1%82!")
    assert status == 400
    assert "Это не похоже на трек-номер" in html and "привет!" in html
    assert "RX747628194CN" in html  # an example of a real format


def test_expected_delivery_is_a_date_window_with_its_probability(client, journey):
    fake_eta(
        client.application,
        lambda session, view: {
            "p10": datetime(2026, 11, 28, 6, tzinfo=UTC),
            "p50": datetime(2026, 11, 30, 6, tzinfo=UTC),
            "p90": datetime(2026, 12, 3, 6, tzinfo=UTC),
            "route": ["ru_lc_novosibirsk", "ru_asc_podolsk", "ru_moscow"],
            "model": "test",
        },
    )
    # The window's punctuation is CLDR's and changes between Babel releases (Russian: "–" up to 2.18,
    # "—" in 2.19), so the page must show exactly what Babel writes, and that must be the right days.
    window_en = format_interval(date(2026, 11, 28), date(2026, 12, 3), "MMMd", locale="en")
    window_ru = format_interval(date(2026, 11, 28), date(2026, 12, 3), "MMMd", locale="ru")
    assert plain_dashes(window_en) == "Nov 28 - Dec 3" and plain_dashes(window_ru) == "28 нояб. - 3 дек."
    _, html = page(client, f"/track/{NUMBER}", **{"Accept-Language": "en"})
    assert window_en in html and "80% likely" in html and "Nov 30, 2026" in html
    _, html = page(client, f"/track/{NUMBER}")
    assert window_ru in html and "80\xa0%" in html


def test_no_eta_section_when_the_service_has_no_answer(client, journey):
    fake_eta(client.application, lambda session, view: None)
    status, html = page(client, f"/track/{NUMBER}")
    assert status == 200 and "Ожидаемая доставка" not in html


def test_failing_eta_service_does_not_break_the_page(client, journey):
    def broken(session: Any, view: Any) -> None:
        raise RuntimeError("model not trained")

    fake_eta(client.application, broken)
    status, html = page(client, f"/track/{NUMBER}")
    assert status == 200 and "Проходит таможенное оформление" in html and "Ожидаемая доставка" not in html


def test_map_shows_route_so_far_and_ahead_as_accessible_svg(client, journey):
    fake_eta(
        client.application,
        lambda session, view: {
            "p10": datetime(2026, 11, 28, tzinfo=UTC),
            "p50": datetime(2026, 11, 30, tzinfo=UTC),
            "p90": datetime(2026, 12, 3, tzinfo=UTC),
            "route": ["cn_shenzhen", "ru_lc_novosibirsk", "ru_moscow"],
            "model": "test",
        },
    )
    _, html = page(client, f"/track/{NUMBER}")
    svg = re.search(r"<svg.*?</svg>", html, re.S)
    assert svg is not None
    svg_text = svg.group(0)
    assert 'role="img"' in svg_text and "<title" in svg_text and "<desc" in svg_text
    assert "stroke-dasharray" in svg_text  # the route ahead
    assert svg_text.count("<path") == 2  # so far and ahead
    assert "Москва" in svg_text  # the destination, labelled in the reader's language


def test_basemap_is_an_svg_cached_by_browsers(client):
    resp = client.get("/map/basemap.svg")
    assert resp.status_code == 200 and resp.mimetype == "image/svg+xml"
    assert resp.cache_control.max_age == 86400 and b"<path" in resp.data


def test_page_shows_no_personal_or_merchant_data(client, journey, app):
    with app.app_context():
        s = app.extensions["silkway.db"].session()
        merchant = models.Merchant(name="Ivanov Gadgets LLC")
        s.add(merchant)
        s.flush()
        parcel = s.query(models.Parcel).one()
        parcel.merchant_id = merchant.id
        parcel.reference = "ORDER-4711-IVAN-PETROV"
        s.commit()
        s.close()
    _, html = page(client, f"/track/{NUMBER}")
    assert "Ivanov" not in html and "ORDER-4711" not in html and "PETROV" not in html


def test_pages_carry_security_headers_and_no_scripts(client, journey):
    for path in ("/", f"/track/{NUMBER}", "/track/UNKNOWN123", "/track?numbers=A1234567,B1234567"):
        resp = client.get(path, headers=RU)
        csp = resp.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Referrer-Policy"] == "no-referrer"
        assert "<script" not in resp.get_data(as_text=True)


def test_home_page_has_a_labelled_search_box(client):
    status, html = page(client, "/")
    assert status == 200
    assert '<label for="numbers">' in html and 'id="numbers" name="numbers"' in html
    assert html.index("<h1") < html.index("<h2")


@pytest.fixture
def limited_app(db_url: str) -> Iterator[Flask]:
    """The app with rate limits on and tiny budgets: 3 requests a minute, 2 unknown numbers a minute."""
    application = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": db_url,
            "SECRET_KEY": "test",
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
            "RATELIMIT_PUBLIC": "3/minute",
            "RATELIMIT_MISSES": "2/minute",
        }
    )
    yield application
    application.extensions["silkway.db"].dispose()


def test_pages_answer_429_with_a_friendly_page_after_the_limit(limited_app):
    client = limited_app.test_client()
    assert [client.get("/", headers=RU).status_code for _ in range(3)] == [200, 200, 200]
    resp = client.get("/", headers=RU)
    assert resp.status_code == 429 and resp.mimetype == "text/html"
    assert "Слишком много запросов" in resp.get_data(as_text=True)
    assert "Retry-After" in resp.headers


def test_public_api_answers_429_problem_json_after_the_limit(limited_app):
    client = limited_app.test_client()
    for _ in range(3):
        client.get(f"/api/v1/tracking-numbers/{NUMBER}")
    resp = client.get(f"/api/v1/tracking-numbers/{NUMBER}")
    assert resp.status_code == 429 and resp.mimetype == "application/problem+json"
    assert resp.get_json()["status"] == 429


def test_pages_and_api_share_one_budget(limited_app):
    client = limited_app.test_client()
    client.get("/", headers=RU)
    client.get(f"/api/v1/tracking-numbers/{NUMBER}")
    client.get("/", headers=RU)
    assert client.get(f"/api/v1/tracking-numbers/{NUMBER}").status_code == 429


def test_guessing_unknown_numbers_runs_out_sooner(limited_app):
    client = limited_app.test_client()
    assert client.get("/track/LP00000000000001", headers=RU).status_code == 404
    assert client.get("/api/v1/parcels/LP00000000000002").status_code == 404
    assert client.get("/track/LP00000000000003", headers=RU).status_code == 429


def test_each_unknown_number_on_the_several_numbers_page_counts_as_a_guess(limited_app):
    client = limited_app.test_client()
    assert client.get("/track?numbers=LP00000000000001,LP00000000000002", headers=RU).status_code == 200
    assert client.get("/track/LP00000000000003", headers=RU).status_code == 429


def test_workers_share_one_budget_through_redis(db_url):
    redis = pytest.importorskip("redis")
    url = os.environ.get("SILKWAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {url}")
    config = {
        "TESTING": True,
        "DATABASE_URL": db_url,
        "SECRET_KEY": "test",
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": url,
        "RATELIMIT_KEY_PREFIX": f"silkway-test-{uuid.uuid4().hex}",
        "RATELIMIT_PUBLIC": "3/minute",
    }
    workers = [create_app(config), create_app(config)]  # two processes behind one load balancer
    try:
        answers = [workers[i % 2].test_client().get("/", headers=RU).status_code for i in range(4)]
        assert answers == [200, 200, 200, 429]
    finally:
        for worker in workers:
            worker.extensions["silkway.db"].dispose()
