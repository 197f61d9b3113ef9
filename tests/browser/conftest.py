"""A real server on 127.0.0.1 over an SQLite database with a parcel in it, and Debian's Chromium.

The server runs in a thread (werkzeug's ``make_server``); the browser is /usr/bin/chromium driven by
Playwright. Tests are skipped when either is missing. Screenshots go to tests/artifacts/ (ignored by
git); ``SILKWAY_UPDATE_SCREENSHOTS=1`` also refreshes the ones in docs/screenshots/.
"""

from __future__ import annotations

import os
import struct
import threading
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from tracking import schema
from tracking.accounts import create_key, ensure_carrier, ensure_merchant
from tracking.db import make_engine
from web import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
SCREENSHOTS = ROOT / "docs" / "screenshots"
NUMBER = "RX747628194CN"
FIRST_MILE = "LP00123456789012"
REGISTERED = "RR000000012CN"  # registered by a merchant, never scanned
NEAR_MOSCOW = "RX000000115CN"  # at Vnukovo, a few kilometres from its destination Moscow


def _scan(
    status: str, substatus: str, at: str, place: tuple[str, str, float, float], text: str
) -> dict[str, Any]:
    name, country, lat, lon = place
    return {
        "tracking_number": NUMBER,
        "status": status,
        "substatus": substatus,
        "occurred_at": at,
        "location": {"name": name, "country": country, "lat": lat, "lon": lon},
        "description": text,
    }


SHENZHEN = ("Shenzhen", "CN", 22.54554, 114.0683)
HARBIN = ("Harbin", "CN", 45.75, 126.65)
NOVOSIBIRSK = ("Novosibirsk", "RU", 55.0126, 82.6507)
EVENTS = [
    {
        **_scan(
            "info_received",
            "label_created",
            "2026-11-10T09:12:00+08:00",
            SHENZHEN,
            "Shipping information received",
        ),
        "tracking_number": FIRST_MILE,
        "linked_numbers": [NUMBER],
    },
    _scan("in_transit", "picked_up", "2026-11-10T18:02:00+08:00", SHENZHEN, "Parcel picked up by courier"),
    _scan("in_transit", "departed", "2026-11-11T21:40:00+08:00", SHENZHEN, "Departed from sorting centre"),
    _scan(
        "in_transit",
        "export_cleared",
        "2026-11-13T14:05:00+08:00",
        HARBIN,
        "Export customs clearance complete",
    ),
    _scan("in_transit", "line_haul", "2026-11-14T02:30:00+08:00", HARBIN, "Departed from origin airport"),
    _scan(
        "in_transit",
        "arrived_destination_country",
        "2026-11-14T09:55:00+07:00",
        NOVOSIBIRSK,
        "Прибыло на территорию Российской Федерации",
    ),
    _scan("in_transit", "customs_processing", "2026-11-15T10:20:00+07:00", NOVOSIBIRSK, "Приём на таможню"),
]
VNUKOVO = ("MMPO Vnukovo", "RU", 55.5915, 37.2615)
NEAR_MOSCOW_EVENTS = [
    {
        **_scan("in_transit", "picked_up", "2026-11-12T10:00:00+08:00", SHENZHEN, "Picked up"),
        "tracking_number": NEAR_MOSCOW,
    },
    {
        **_scan("in_transit", "arrived_destination_country", "2026-11-16T08:00:00+03:00", VNUKOVO, "Прибыло"),
        "tracking_number": NEAR_MOSCOW,
    },
]
ETA = {
    "p10": datetime(2026, 11, 20, 6, tzinfo=UTC),
    "p50": datetime(2026, 11, 21, 9, tzinfo=UTC),
    "p90": datetime(2026, 11, 24, 12, tzinfo=UTC),
    "route": ["cn_shenzhen", "cn_harbin", "ru_lc_novosibirsk", "ru_asc_podolsk", "ru_moscow"],
    "model": "browser-test",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip the browser tests on a machine without Chromium or Playwright."""
    missing = None
    if not CHROMIUM.exists():
        missing = f"{CHROMIUM} is not installed (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "the playwright package is not installed"
    if missing and os.environ.get("CI"):
        raise pytest.UsageError(f"CI must run the browser tests: {missing}")
    for item in items:
        if missing and "browser" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=missing))


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app served over HTTP on a free port, with one parcel ingested through the carriers' API."""
    from werkzeug.serving import make_server

    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'silkway.db'}"
    engine = make_engine(url)
    schema.upgrade(engine)
    engine.dispose()
    app = create_app({"DATABASE_URL": url, "RATELIMIT_ENABLED": False, "SECRET_KEY": "browser-tests"})
    with app.app_context():
        session = app.extensions["silkway.db"].session()
        key = create_key(session, "carrier", carrier=ensure_carrier(session, "acme_post", "canonical"))
        shop = create_key(session, "merchant", merchant=ensure_merchant(session, "Browser Shop"))
        session.commit()
        session.close()
    resp = app.test_client().post(
        "/api/v1/carriers/acme_post/events",
        data=orjson.dumps({"events": EVENTS + NEAR_MOSCOW_EVENTS}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert resp.status_code == 200 and resp.get_json()["accepted"] == len(EVENTS) + 2, resp.get_json()
    registration = {
        "identifiers": [REGISTERED],
        "origin": "Shenzhen",
        "destination": "Moscow",
        "service": "standard_air",
        "reference": "B-1",
    }
    resp = app.test_client().post(
        "/api/v1/parcels",
        data=orjson.dumps(registration),
        content_type="application/json",
        headers={"Authorization": f"Bearer {shop}"},
    )
    assert resp.status_code == 201, resp.get_json()
    # A fixed ETA stands in for the ETA service, so pages and screenshots are the same on every run.
    app.config["ETA_PROVIDER"] = lambda session, view: dict(ETA)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, name="silkway-test-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=10)
    httpd.server_close()
    app.extensions["silkway.db"].dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium, driven by Playwright (never a downloaded browser build)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser tab whose user prefers Russian, on a desktop-sized screen."""
    context = browser.new_context(locale="ru-RU", viewport={"width": 1200, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


def save_screenshot(tab: Any, name: str) -> bytes:
    """Save a full-page screenshot under tests/artifacts/ (and docs/screenshots/ when asked)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    png: bytes = tab.screenshot(path=str(ARTIFACTS / name), full_page=True)
    if os.environ.get("SILKWAY_UPDATE_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / name).write_bytes(png)
    return png


def png_colours(png: bytes, step: int = 7) -> int:
    """How many distinct colours a PNG has (sampling every ``step``-th pixel): a blank page has one."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", b""
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, body = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        header = body if kind == b"IHDR" else header
        idat += body if kind == b"IDAT" else b""
        pos += 12 + length
    width, height, depth, colour_type = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour_type in (2, 6), "expected 8-bit RGB or RGBA"
    channels = 3 if colour_type == 2 else 4
    raw, stride = zlib.decompress(idat), width * channels
    rows: list[bytearray] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        rows.append(line)
        previous = line
    colours = {
        bytes(row[x * channels : x * channels + 3]) for row in rows[::step] for x in range(0, width, step)
    }
    return len(colours)
