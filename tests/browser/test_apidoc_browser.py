"""The API documentation page in a real browser: Swagger UI renders every operation of /api/openapi.json
from this origin's files alone, with no request to another host and no Content-Security-Policy violation."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit
from urllib.request import urlopen

import orjson
import pytest

from tests.browser.conftest import save_screenshot

pytestmark = pytest.mark.browser


def test_swagger_ui_renders_offline(browser: Any, server: str) -> None:
    context = browser.new_context(locale="en-GB", viewport={"width": 1200, "height": 900})
    # Anything not on this origin fails at once, as it would on a machine without the internet.
    context.route(
        lambda url: urlsplit(url).netloc != urlsplit(server).netloc,
        lambda route: route.abort("internetdisconnected"),
    )
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    requested: list[str] = []
    problems: list[str] = []
    tab.on("request", lambda request: requested.append(request.url))
    tab.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    tab.on("pageerror", lambda error: problems.append(str(error)))
    try:
        tab.goto(f"{server}/apidoc/swagger/")
        tab.wait_for_selector(".swagger-ui .info .title")
        assert tab.inner_text(".swagger-ui .info .title").startswith("Silkway API")
        with urlopen(f"{server}/api/openapi.json", timeout=10) as answer:
            document = orjson.loads(answer.read())
        operations = sum(
            1 for methods in document["paths"].values() for method in methods if method != "parameters"
        )
        tab.wait_for_function(f"document.querySelectorAll('.opblock').length === {operations}")
        # Open an operation, try it out: Swagger UI calls the API on this origin.
        tab.locator(".opblock-summary").first.click()
        tab.locator("button.try-out__btn").first.click()
        tab.locator("button.execute").first.click()
        tab.wait_for_selector(".live-responses-table")
        save_screenshot(tab, "apidoc-swagger.png")
    finally:
        context.close()
    assert requested, "the page made no request"
    assert not [url for url in requested if urlsplit(url).netloc != urlsplit(server).netloc], requested
    assert not problems, problems
