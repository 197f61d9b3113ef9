"""The parcel page's layout measured in Chromium: element widths on a desktop and a phone screen."""

from __future__ import annotations

import pytest

from tests.browser.conftest import REGISTERED

pytestmark = pytest.mark.browser

WIDTH = "(selector) => document.querySelector(selector).getBoundingClientRect().width"


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (360, 740)])
def test_a_registered_parcel_without_scans_uses_the_whole_history_card(server, browser, width, height):
    context = browser.new_context(locale="en-GB", viewport={"width": width, "height": height})
    tab = context.new_page()
    try:
        tab.goto(f"{server}/track/{REGISTERED}")
        text = tab.locator(".empty-history")
        assert "has not scanned it yet" in text.inner_text()
        card = tab.evaluate(WIDTH, "#history-heading")  # the heading spans the card's inner width
        used = tab.evaluate(WIDTH, ".empty-history")
        assert used >= 0.95 * card, (used, card)  # not squeezed into the time column (8.5rem, ~136 px)
        assert tab.locator(".empty-history").bounding_box()["height"] < 80  # a line or two, not a column
    finally:
        context.close()
