"""The merchant dashboard in a real browser: log in with a merchant key, see parcels by status."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from tests.browser.conftest import png_colours, save_screenshot
from tracking import schema
from tracking.accounts import create_key, ensure_carrier, ensure_merchant
from tracking.db import make_engine
from web import create_app
from web.worker.merchant_jobs import stalled_parcels_job

pytestmark = pytest.mark.browser

STEPS = [
    ("in_transit", "picked_up", "Shenzhen", "CN", 9),
    ("in_transit", "departed", "Shenzhen", "CN", 8),
    ("in_transit", "customs_processing", "Moscow", "RU", 5),
    ("out_for_delivery", "courier", "Moscow", "RU", 2),
    ("delivered", "recipient", "Moscow", "RU", 1),
]


@pytest.fixture(scope="module")
def merchant_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A served app with one merchant's registered parcels at different stages; yields (url, key)."""
    from werkzeug.serving import make_server

    url = f"sqlite:///{tmp_path_factory.mktemp('dashboard') / 'silkway.db'}"
    engine = make_engine(url)
    schema.upgrade(engine)
    engine.dispose()
    app = create_app({"DATABASE_URL": url, "RATELIMIT_ENABLED": False, "SECRET_KEY": "browser-tests"})
    with app.app_context():
        session = app.extensions["silkway.db"].session()
        carrier = create_key(session, "carrier", carrier=ensure_carrier(session, "acme_post", "canonical"))
        merchant = create_key(session, "merchant", merchant=ensure_merchant(session, "Shenzhen Gadgets"))
        session.commit()
        session.close()
    client, now = app.test_client(), datetime.now(UTC)
    parcels = [f"RX{n:08d}{c}CN" for n, c in ((74762819, 4), (12345678, 5), (47312482, 9))]
    body = {
        "parcels": [
            {
                "identifiers": [n],
                "origin": "Shenzhen",
                "destination": "Moscow",
                "service": "standard_air",
                "reference": f"order-{i}",
            }
            for i, n in enumerate(parcels)
        ]
    }
    resp = client.post(
        "/api/v1/parcels",
        data=orjson.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {merchant}"},
    )
    assert resp.status_code == 201, resp.get_json()
    events = []
    for parcel, upto in zip(parcels, (2, 3, 5), strict=True):
        for status, sub, name, country, days in STEPS[:upto]:
            events.append(
                {
                    "tracking_number": parcel,
                    "status": status,
                    "substatus": sub,
                    "occurred_at": (now - timedelta(days=days)).isoformat(),
                    "location": {"name": name, "country": country},
                }
            )
    resp = client.post(
        "/api/v1/carriers/acme_post/events",
        data=orjson.dumps({"events": events}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {carrier}"},
    )
    assert resp.status_code == 200, resp.get_json()
    stalled_parcels_job(app, now)  # the parcel last scanned 8 days ago in transit is delayed
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", merchant
    httpd.shutdown()
    thread.join(timeout=10)
    httpd.server_close()
    app.extensions["silkway.db"].dispose()


def test_merchant_logs_in_and_sees_parcels_by_status(merchant_server: tuple[str, str], page: Any) -> None:
    base, key = merchant_server
    page.goto(f"{base}/dashboard")
    page.fill("#key", key)
    page.locator("form button, form input[type=submit]").first.click()
    page.wait_for_url(f"{base}/dashboard")
    text = page.inner_text("body")
    assert "Shenzhen Gadgets" in text
    counts = dict(line.split("\t") for line in text.splitlines() if line.count("\t") == 1)
    assert counts["in transit"] == "2" and counts["delivered"] == "1" and counts["All"] == "3"
    png = save_screenshot(page, "dashboard.png")
    assert png_colours(png) > 20


def test_a_wrong_key_is_refused_on_the_login_page(merchant_server: tuple[str, str], page: Any) -> None:
    base, _ = merchant_server
    page.goto(f"{base}/dashboard/login")
    page.fill("#key", "sw_mer_wrong")
    page.locator("form button, form input[type=submit]").first.click()
    assert "/dashboard/login" in page.url
    assert page.locator("#key").is_visible()


def test_the_dashboard_fits_a_390_px_phone(merchant_server: tuple[str, str], browser: Any) -> None:
    base, key = merchant_server
    context = browser.new_context(locale="ru-RU", viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        tab = context.new_page()
        tab.set_default_timeout(15_000)
        tab.goto(f"{base}/dashboard")
        tab.fill("#key", key)
        tab.locator("form button, form input[type=submit]").first.click()
        tab.wait_for_url(f"{base}/dashboard")
        assert tab.evaluate("document.documentElement.scrollWidth") <= 390
        for selector in ("table.counts", "table.delayed", "svg.chart", "header.bar"):
            box = tab.locator(selector).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, (selector, box)
        delayed = tab.locator("table.delayed tbody tr")
        assert delayed.count() == 1
        card = delayed.first.inner_text()
        assert "RX747628194CN" in card and "order-0" in card
        # each cell stacks under its column's name, the table header being hidden off screen
        first = delayed.first.locator("td").first
        label = first.evaluate("td => getComputedStyle(td, '::before').content")
        assert first.evaluate("td => getComputedStyle(td).display") == "block" and "Tracking number" in label
        png = save_screenshot(tab, "dashboard-390.png")
        assert png_colours(png) > 20
    finally:
        context.close()
