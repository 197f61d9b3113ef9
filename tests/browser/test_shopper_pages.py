"""A shopper in a real browser: search, read the parcel page, switch language, on desktop and phone."""

from __future__ import annotations

import itertools
import re
from datetime import date
from typing import Any

import pytest
from babel.dates import format_interval

from tests.browser.conftest import FIRST_MILE, NUMBER, png_colours, save_screenshot
from tests.conftest import plain_dashes

pytestmark = pytest.mark.browser

# Contrast of text against its background, computed in the page (WCAG 2 relative luminance).
CONTRAST_SCRIPT = """
(selectors) => {
  const lum = (rgb) => {
    const [r, g, b] = rgb.match(/[\\d.]+/g).slice(0, 3).map(Number).map((v) => {
      v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const bg = getComputedStyle(el).backgroundColor;
      const parts = bg.match(/[\\d.]+/g);
      if (parts && (parts.length < 4 || Number(parts[3]) > 0.5)) return bg;
    }
    return 'rgb(255, 255, 255)';
  };
  const worst = [];
  for (const selector of selectors) {
    for (const el of document.querySelectorAll(selector)) {
      const a = lum(getComputedStyle(el).color), b = lum(background(el));
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      worst.push([selector, Math.round(ratio * 100) / 100]);
    }
  }
  return worst;
}
"""


def heading_levels(tab: Any) -> list[int]:
    return tab.eval_on_selector_all("h1, h2, h3, h4", "els => els.map(e => Number(e.tagName[1]))")


def test_search_from_home_page_opens_the_parcel(server, page):
    page.goto(server + "/")
    page.get_by_label("Трек-номер").fill(NUMBER.lower())
    page.get_by_role("button", name="Найти").click()
    page.wait_for_url(re.compile(rf"/track/{NUMBER}$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Проходит таможенное оформление"
    assert page.locator(".timeline > li").count() == 7
    # p10 and p90 of the fixed ETA, in Moscow; the dash is whichever CLDR (Babel) release is installed
    window = format_interval(date(2026, 11, 20), date(2026, 11, 24), "MMMd", locale="ru")
    assert plain_dashes(window) == "20-24 нояб."
    assert page.locator(".eta .window").inner_text() == window


def test_parcel_page_lists_every_number_and_links_them(server, page):
    page.goto(f"{server}/track/{NUMBER}")
    page.get_by_role("link", name=FIRST_MILE).click()
    page.wait_for_url(re.compile(rf"/track/{FIRST_MILE}$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Проходит таможенное оформление"


def test_several_numbers_from_the_search_box(server, page):
    page.goto(server + "/")
    page.get_by_label("Трек-номер").fill(f"{NUMBER}, LP99999999999999")
    page.get_by_role("button", name="Найти").click()
    page.wait_for_url(re.compile(r"/track\?numbers="))
    rows = page.locator(".parcels > li")
    assert rows.count() == 2
    assert "Проходит таможенное оформление" in rows.nth(0).inner_text()
    assert "Пока нет сведений о посылке" in rows.nth(1).inner_text()


def test_switching_language_translates_the_page_and_is_remembered(server, page):
    page.goto(f"{server}/track/{NUMBER}")
    page.get_by_role("link", name="English").click()
    page.wait_for_url(re.compile(r"lang=en"))
    assert page.get_by_role("heading", level=1).inner_text() == "Customs clearance in progress"
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto(server + "/")
    assert page.get_by_role("heading", level=1).inner_text() == "Where is my parcel?"
    page.get_by_role("link", name="中文").click()
    assert page.get_by_role("heading", level=1).inner_text() == "我的包裹在哪里？"


def test_unknown_number_shows_help_instead_of_an_error(server, page):
    response = page.goto(f"{server}/track/RX747628195CN")
    assert response is not None and response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "Пока нет сведений о посылке"
    assert "Почта Китая" in page.locator(".candidates").inner_text()


def test_tracking_page_screenshot_is_not_blank(server, page):
    page.goto(f"{server}/track/{NUMBER}")
    page.locator("svg.route-map").wait_for()
    page.wait_for_load_state("networkidle")
    png = save_screenshot(page, "track-ru.png")
    assert len(png) > 20_000
    assert png_colours(png) > 50


def test_phone_sized_screen_needs_no_sideways_scrolling(server, browser):
    context = browser.new_context(locale="ru-RU", viewport={"width": 360, "height": 740}, is_mobile=True)
    tab = context.new_page()
    tab.goto(f"{server}/track/{NUMBER}")
    assert tab.evaluate("document.documentElement.scrollWidth") <= 360
    save_screenshot(tab, "track-ru-phone.png")
    context.close()


def test_pages_pass_basic_accessibility_checks(server, page):
    for path in ("/", f"/track/{NUMBER}", "/track/RX747628195CN"):
        page.goto(server + path)
        assert page.locator("html").get_attribute("lang") == "ru"
        levels = heading_levels(page)
        assert levels[0] == 1 and levels.count(1) == 1
        assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), levels
        unlabelled = page.eval_on_selector_all(
            "input:not([type=hidden])", "els => els.filter(e => !e.labels.length).map(e => e.outerHTML)"
        )
        assert unlabelled == []
    page.goto(f"{server}/track/{NUMBER}")
    svg = page.locator("svg.route-map")
    assert svg.get_attribute("role") == "img" and svg.get_attribute("aria-labelledby")
    assert page.locator("svg.route-map title").text_content() == "Карта маршрута посылки"
    assert "Шэньчжэнь" in (page.locator("svg.route-map desc").text_content() or "")
    ratios = page.evaluate(
        CONTRAST_SCRIPT, ["h1", "h2", "p", ".hint", ".tz", ".where", ".original", ".langs a", "li", "time"]
    )
    assert ratios and [r for r in ratios if r[1] < 4.5] == []


def test_pages_load_nothing_from_other_sites(server, page):
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(request.url.split("/")[2]))
    page.goto(f"{server}/track/{NUMBER}")
    page.wait_for_load_state("networkidle")
    assert hosts == {server.split("/")[2]}
