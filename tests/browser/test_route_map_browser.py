"""The route map as Chromium draws it: labels apart and inside the frame; on a phone, the legs as a list."""

from __future__ import annotations

import pytest

from tests.browser.conftest import NEAR_MOSCOW, NUMBER

pytestmark = pytest.mark.browser

# Each label's drawn box (getBBox, in the SVG's units) and the visible frame (the viewBox).
LABEL_BOXES = """
() => {
  const svg = document.querySelector('svg.route-map');
  const [x, y, w, h] = svg.getAttribute('viewBox').split(' ').map(Number);
  const boxes = [...svg.querySelectorAll('text.label')].map((t) => {
    const b = t.getBBox();
    return {text: t.textContent, left: b.x, top: b.y, right: b.x + b.width, bottom: b.y + b.height};
  });
  return {frame: {left: x, top: y, right: x + w, bottom: y + h}, boxes};
}
"""


def overlap(a: dict[str, float], b: dict[str, float]) -> float:
    w = min(a["right"], b["right"]) - max(a["left"], b["left"])
    h = min(a["bottom"], b["bottom"]) - max(a["top"], b["top"])
    return w * h if w > 0 and h > 0 else 0.0


@pytest.mark.parametrize(
    ("number", "lang"), [(NEAR_MOSCOW, "ru-RU"), (NEAR_MOSCOW, "zh-CN"), (NUMBER, "en-GB")]
)
def test_map_labels_do_not_overlap_or_fall_off_the_frame(server, browser, number, lang):
    context = browser.new_context(locale=lang, viewport={"width": 1100, "height": 900})
    tab = context.new_page()
    try:
        tab.goto(f"{server}/track/{number}")
        drawn = tab.evaluate(LABEL_BOXES)
    finally:
        context.close()
    frame, boxes = drawn["frame"], drawn["boxes"]
    assert len(boxes) == 3, boxes  # where it is, where it goes, where it started
    for box in boxes:
        assert box["left"] >= frame["left"] and box["right"] <= frame["right"], (box, frame)
        assert box["top"] >= frame["top"] and box["bottom"] <= frame["bottom"], (box, frame)
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert overlap(a, b) == 0, (a, b)


def test_on_a_phone_the_route_is_a_list_of_legs(server, browser):
    context = browser.new_context(locale="en-GB", viewport={"width": 360, "height": 740}, is_mobile=True)
    tab = context.new_page()
    try:
        tab.goto(f"{server}/track/{NUMBER}")
        legs = tab.locator("ol.legs > li")
        assert tab.locator("ol.legs").is_visible() and not tab.locator("svg.route-map").is_visible()
        texts = legs.all_inner_texts()
        assert texts[0].startswith("Shenzhen → Harbin") and "travelled" in texts[0]
        assert any("Novosibirsk" in t and "travelled" in t for t in texts)
        assert texts[-1].endswith("expected") and "Moscow" in texts[-1]
        width = tab.evaluate("() => document.querySelector('ol.legs').getBoundingClientRect().width")
        assert width > 280  # the list uses the phone's width
    finally:
        context.close()


def test_on_a_wide_screen_the_map_is_shown_and_not_the_list(server, page):
    page.goto(f"{server}/track/{NUMBER}")
    assert page.locator("svg.route-map").is_visible() and not page.locator("ol.legs").is_visible()
