"""The merchant dashboard: sign in with a merchant key, see parcels by status, the delayed ones, the chart."""

from __future__ import annotations

import importlib.util
import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from tests.web.support import ago, register_parcels
from tracking import models
from tracking.types import utcnow
from web.worker.merchant_jobs import stalled_parcels_job

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client: FlaskClient, path: str = "/dashboard/login") -> str:
    match = CSRF.search(client.get(path).get_data(as_text=True))
    assert match, "the page has no CSRF token"
    return match.group(1)


def sign_in(client: FlaskClient, key: str) -> None:
    resp = client.post("/dashboard/login", data={"key": key, "csrf_token": csrf(client)})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/dashboard")


def dashboard(client: FlaskClient) -> str:
    resp = client.get("/dashboard")
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    return resp.get_data(as_text=True)


def test_signed_out_visitor_is_sent_to_the_login_form(client):
    resp = client.get("/dashboard")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/dashboard/login")
    form = client.get("/dashboard/login").get_data(as_text=True)
    assert 'name="key"' in form and 'type="password"' in form


def test_merchant_key_signs_in_and_sees_its_parcels_by_status(client, shop_key, shop, scan):
    register_parcels(client, shop, "RX000000001CN", "RX000000002CN", "RX000000003CN")
    scan("RX000000002CN", "in_transit", "departed", ago(days=1))
    scan("RX000000003CN", "delivered", "recipient", ago(days=0.5))
    sign_in(client, shop_key)
    page = dashboard(client)
    assert "Shop One" in page
    counts = dict(re.findall(r'data-status="(\w+)"><td>[^<]*</td><td class="num">(\d+)</td>', page))
    assert counts == {"pending": "1", "in_transit": "1", "delivered": "1"}


def test_dashboard_shows_only_the_merchants_own_parcels(client, shop_key, shop, rival):
    register_parcels(client, rival, "RX000000009CN")
    register_parcels(client, shop, "RX000000001CN")
    sign_in(client, shop_key)
    page = dashboard(client)
    assert "RX000000009CN" not in page and "Shop Two" not in page


def test_wrong_key_is_refused(client):
    resp = client.post("/dashboard/login", data={"key": "sw_mer_nope", "csrf_token": csrf(client)})
    assert resp.status_code == 401 and "not a valid merchant key" in resp.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302


def test_carrier_key_cannot_sign_in(client, make_key):
    key = make_key("carrier", "acme_post")
    resp = client.post("/dashboard/login", data={"key": key, "csrf_token": csrf(client)})
    assert resp.status_code == 401


def test_login_without_the_forms_csrf_token_is_refused(client, shop_key):
    csrf(client)
    assert client.post("/dashboard/login", data={"key": shop_key}).status_code == 400
    assert client.post("/dashboard/login", data={"key": shop_key, "csrf_token": "forged"}).status_code == 400
    assert client.get("/dashboard").status_code == 302


def test_session_cookie_does_not_hold_the_key(client, shop_key):
    sign_in(client, shop_key)
    cookie = client.get_cookie("session")
    assert cookie is not None and shop_key not in cookie.value


def test_sign_out_needs_the_token_and_ends_the_session(client, shop_key):
    sign_in(client, shop_key)
    assert client.post("/dashboard/logout", data={"csrf_token": "forged"}).status_code == 400
    assert client.get("/dashboard").status_code == 200
    token = csrf(client, "/dashboard")
    resp = client.post("/dashboard/logout", data={"csrf_token": token})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/dashboard/login")
    assert client.get("/dashboard").status_code == 302


def test_revoked_key_signs_the_dashboard_out(app: Flask, client, shop_key):
    sign_in(client, shop_key)
    with app.app_context():
        session = app.extensions["silkway.db"].session()
        session.execute(update(models.ApiKey).values(revoked_at=utcnow() - timedelta(seconds=1)))
        session.commit()
        session.close()
    assert client.get("/dashboard").status_code == 302


def test_delayed_parcels_are_listed(app, client, shop_key, shop, scan):
    register_parcels(client, shop, "RX000000001CN", "RX000000002CN")
    scan("RX000000001CN", "in_transit", "departed", ago(days=9))
    scan("RX000000002CN", "in_transit", "departed", ago(days=1))
    stalled_parcels_job(app, utcnow())
    sign_in(client, shop_key)
    page = dashboard(client)
    assert "Delayed parcels (1)" in page
    section = page.split('id="delayed"', 1)[1].split("</section>", 1)[0]
    assert "RX000000001CN" in section and "ORDER-RX000000001CN" in section and "RX000000002CN" not in section


def test_chart_counts_each_parcel_in_flight_once_by_day(client, shop_key, shop, scan):
    register_parcels(client, shop, "RX000000001CN", "RX000000002CN", "RX000000003CN")
    scan("RX000000001CN", "in_transit", "departed", ago(days=3.5))
    scan("RX000000002CN", "in_transit", "departed", ago(days=3.2))
    scan("RX000000003CN", "delivered", "recipient", ago(days=1))
    sign_in(client, shop_key)
    page = dashboard(client)
    svg = page.split("<svg", 1)[1].split("</svg>", 1)[0]
    bars = dict(re.findall(r"<title>(\d+\+?) days: (\d+) parcels</title>", svg))
    assert len(bars) == 31 and svg.count("<rect") == 31
    assert sum(int(n) for n in bars.values()) == 2
    assert "2 of 2 parcels in flight" in page
    if importlib.util.find_spec("web.eta") is None:
        assert "days in transit so far" in page and bars["3"] == "2"
    else:
        assert "Expected delivery of parcels in flight (median ETA)" in page and bars["0"] == "0"
