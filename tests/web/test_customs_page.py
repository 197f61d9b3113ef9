"""Customs in plain words on /track/{n}: Russian Post's customs operations pushed through the carrier API
as Russian Post sends them, then the page read in Russian, English and Chinese (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import bearer
from tests.support.russian_post_answers import Operation, batch_answer

NUMBER = "RB123456785CN"
LANGUAGES = {"ru": "ru-RU,ru;q=0.9", "en": "en", "zh": "zh-CN"}


def moscow(days_ago: float) -> datetime:
    """A wall-clock time at a Moscow office (UTC+3, no offset: as the batch answer gives it)."""
    return (datetime.now(UTC) + timedelta(hours=3) - timedelta(days=days_ago)).replace(
        tzinfo=None, microsecond=0
    )


ARRIVED: list[Operation] = [
    ("9", "1", "Импорт международной почты", moscow(4)),
    ("11", "0", "Прием на таможню", moscow(3.9)),
]
REFUSED_UNPAID: Operation = ("14", "14", "Таможенное оформление", moscow(3))
PAID: list[Operation] = [
    ("19", "0", "Таможенные платежи поступили", moscow(1)),
    ("14", "13", "Таможенное оформление", moscow(0.9)),
]


@pytest.fixture
def russian_post(client: FlaskClient, make_key: Callable[..., str]) -> Callable[..., None]:
    """Push a batch answer for NUMBER as the Russian Post carrier does."""
    key = make_key("carrier", "russian_post")

    def _push(*operations: Operation) -> None:
        resp = client.post(
            "/api/v1/carriers/russian_post/events",
            data=batch_answer(NUMBER, operations),
            content_type="text/xml",
            headers=bearer(key),
        )
        assert resp.status_code == 200, resp.get_json()
        assert resp.get_json()["accepted"] == len(operations)

    return _push


@pytest.fixture
def window(app: Any) -> None:
    """An ETA service that always has a delivery window: the page must still not show it while held."""
    app.config["ETA_PROVIDER"] = lambda session, view: {
        "p10": datetime.now(UTC) + timedelta(days=5),
        "p90": datetime.now(UTC) + timedelta(days=12),
    }


def read(client: FlaskClient, lang: str) -> str:
    resp = client.get(f"/track/{NUMBER}", headers={"Accept-Language": LANGUAGES[lang]})
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def headline(html: str) -> str:
    return html.split("<h1", 1)[1].split("</h1>", 1)[0]


def current_stage(html: str) -> str:
    return html.split('aria-current="step"><span>', 1)[1].split("</span>", 1)[0]


HELD = {
    "ru": ("Нужно оплатить таможенную пошлину", "200 евро", "31 кг", "15 %", "Ждём вас"),
    "en": ("Customs duty to pay", "200 EUR", "31 kg", "15 % of the excess", "Waiting for you"),
    "zh": ("需缴纳关税", "200 欧元", "31 公斤", "15%", "等待您的操作"),
}
WINDOW_WORDS = {"ru": "Вероятность", "en": "likely", "zh": "可能"}


@pytest.mark.parametrize("lang", sorted(HELD))
def test_a_parcel_held_for_duties_says_what_to_do_and_shows_no_delivery_window(
    client, russian_post, window, lang
):
    russian_post(*ARRIVED, REFUSED_UNPAID)
    html = read(client, lang)
    title, amount, weight, rate, waiting = HELD[lang]
    assert title in headline(html)
    notice = html.split('class="notice-box customs"', 1)[1].split("</div>", 1)[0]
    assert amount in notice and weight in notice and rate in notice and "2020" in notice
    assert 'href="https://procapitalist.ru/articles/industry-news/13672"' in notice  # the rule's source
    assert waiting in html
    assert WINDOW_WORDS[lang] not in html.split('class="eta paused"', 1)[1].split("</div>", 1)[0]
    assert 'class="window"' not in html  # no "80 % likely 6–19 Dec" while the shopper must act
    assert 'class="notice-box delay"' not in html  # waiting for the shopper is not a delay


def test_once_the_duty_is_paid_and_released_the_page_moves_on(client, russian_post, window):
    russian_post(*ARRIVED, REFUSED_UNPAID)
    russian_post(*PAID)
    html = read(client, "en")
    assert "Cleared customs" in headline(html)
    assert 'class="notice-box customs"' not in html and "Waiting for you" not in html
    assert 'class="window"' in html  # the delivery window is back
    assert current_stage(html) == "Delivery"  # released: the progress bar leaves "Customs"
    assert "Customs duty paid" in html  # the payment itself is a line of the history


def test_a_duty_to_pay_on_collection_is_shown_after_the_parcel_moves_on(client, russian_post, window):
    russian_post(
        *ARRIVED,
        ("14", "6", "Таможенное оформление", moscow(3)),  # sent on with mandatory payment of duties
        ("8", "2", "Обработка", moscow(1)),  # arrived at the delivery office
    )
    html = read(client, "ru")
    notice = html.split('class="notice-box customs"', 1)[1].split("</div>", 1)[0]
    assert "на почте, когда будете получать посылку" in notice
    assert "Ждём вас" not in html  # the parcel itself is not held


def test_the_api_names_the_new_states(client, russian_post):
    russian_post(*ARRIVED, REFUSED_UNPAID)
    body = client.get(f"/api/v1/parcels/{NUMBER}").get_json()
    assert (body["status"], body["substatus"]) == ("exception", "customs_duty_due")
    assert body["eta"] is None  # the delivery date waits for the shopper's payment
    russian_post(*PAID)
    body = client.get(f"/api/v1/parcels/{NUMBER}").get_json()
    assert [e["substatus"] for e in body["events"][:2]] == ["customs_cleared", "customs_duty_paid"]
    assert body["eta"] is not None and body["eta"]["p10"] <= body["eta"]["p90"]  # told again once paid
