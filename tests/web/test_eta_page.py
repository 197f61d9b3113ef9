"""The ETA on the tracking page as the real lookups tell it (no stand-in provider)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from tests.conftest import bearer
from web.eta.engine import forget_engine

NUMBER = "RX747628194CN"
PRIOR_NOTE = {
    "ru": "Оценка по сети перевозок, пока не по сканам посылок.",
    "en": "Estimate from the network, not yet from scans.",
    "zh": "根据运输网络估算，尚未依据包裹扫描。",
}


@pytest.fixture(autouse=True)
def _fresh_engine():
    forget_engine()
    yield
    forget_engine()


@pytest.fixture
def at_moscow_customs(client, make_key):
    """A parcel that left Shenzhen five days ago and has been at Moscow customs for a day."""
    start = datetime.now(UTC) - timedelta(days=5)
    events = [
        {"tracking_number": NUMBER, "status": "in_transit", "substatus": "departed",
         "occurred_at": start.isoformat(), "location": {"name": "Shenzhen", "country": "CN"}},
        {"tracking_number": NUMBER, "status": "in_transit", "substatus": "customs_processing",
         "occurred_at": (start + timedelta(days=4)).isoformat(),
         "location": {"name": "Moscow", "country": "RU"}},
    ]
    resp = client.post("/api/v1/carriers/acme_post/events", data=orjson.dumps({"events": events}),
                       content_type="application/json", headers=bearer(make_key("carrier", "acme_post")))
    assert resp.status_code == 200, resp.get_json()


@pytest.mark.parametrize("lang", ["ru", "en", "zh"])
def test_a_fresh_service_says_its_window_comes_from_the_network(client, at_moscow_customs, lang):
    html = client.get(f"/track/{NUMBER}?lang={lang}").get_data(as_text=True)
    eta = html.split('class="eta"')[1].split("</div>")[0]
    assert PRIOR_NOTE[lang] in eta


def test_a_learned_model_drops_the_network_note(app, client, at_moscow_customs):
    assert app.test_cli_runner().invoke(args=["eta", "refresh"]).exit_code == 0
    forget_engine()
    html = client.get(f"/track/{NUMBER}?lang=en").get_data(as_text=True)
    assert 'class="eta"' in html and PRIOR_NOTE["en"] not in html
