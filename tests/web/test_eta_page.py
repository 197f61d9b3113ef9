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


FROM_HERE = {"ru": "ММПО Шереметьево (Москва): до доставки около ", "en": "Time to arrival from ",
             "zh": "到送达约需"}


@pytest.mark.parametrize("lang", ["ru", "en", "zh"])
def test_the_page_names_the_etas_factors_in_the_shoppers_language(client, at_moscow_customs, lang):
    factors = client.get(f"/api/v1/parcels/{NUMBER}/eta").get_json()["factors"]
    assert factors[0]["code"] == "from_here" and factors[0]["params"]["place"] == "ru_mmpo_sheremetyevo"
    html = client.get(f"/track/{NUMBER}?lang={lang}").get_data(as_text=True)
    notes = [p.split("</p>")[0] for p in html.split('<p class="eta-note">')[1:]]
    assert len(notes) == 1 + len(factors)  # the network's note, then one line per factor
    assert FROM_HERE[lang] in notes[1]
    if lang != "en":
        assert not any(f["text"] in notes for f in factors)  # worded for the reader, not the API's English


def test_the_api_documents_the_factors(client):
    schemas = client.get("/api/openapi.json").get_json()["components"]["schemas"]
    factors = schemas["EtaOut"]["properties"]["factors"]
    assert factors["items"]["$ref"].endswith("/EtaFactorOut")
    assert set(schemas["EtaFactorOut"]["properties"]) == {"code", "text", "params", "effect_hours"}
