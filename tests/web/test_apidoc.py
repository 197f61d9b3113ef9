"""The API documentation page over HTTP: /apidoc/swagger/ names only this origin's files, and they answer.

tests/browser/test_apidoc_browser.py renders it in Chromium and watches every request it makes.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from flask.testing import FlaskClient

from web import create_app

PAGE = "/apidoc/swagger/"
# Any absolute or protocol-relative URL: the page must name none (same-origin paths only).
OTHER_HOST = re.compile(r"(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)


class References(HTMLParser):
    """The URLs a page makes the browser load: script src, link href (by rel), img/iframe/source src."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []  # (kind, url)
        self.attributes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self.attributes.extend(values.values())
        if tag == "script" and values.get("src"):
            self.found.append(("script", values["src"]))
        elif tag == "link" and values.get("href"):
            self.found.append((values.get("rel", "link"), values["href"]))
        elif tag in {"img", "iframe", "source", "embed"} and values.get("src"):
            self.found.append((tag, values["src"]))


@pytest.fixture(scope="module")
def docs() -> FlaskClient:
    """A client of an app that serves the docs; they need no database."""
    return create_app({"TESTING": True, "RATELIMIT_ENABLED": False, "SECRET_KEY": "test"}).test_client()


def page_references(docs: FlaskClient) -> tuple[str, References]:
    resp = docs.get(PAGE)
    assert resp.status_code == 200
    assert resp.mimetype == "text/html"
    html = resp.get_data(as_text=True)
    parser = References()
    parser.feed(html)
    return html, parser


def test_the_page_answers_and_names_no_other_host(docs: FlaskClient) -> None:
    html, parser = page_references(docs)
    assert not OTHER_HOST.search(html), OTHER_HOST.search(html)
    for _kind, url in parser.found:
        assert url.startswith("/") and not url.startswith("//"), url
    assert {kind for kind, _url in parser.found} >= {"script", "stylesheet"}


def test_every_asset_it_names_answers_with_its_type(docs: FlaskClient) -> None:
    _html, parser = page_references(docs)
    expected = {"script": {"text/javascript", "application/javascript"}, "stylesheet": {"text/css"}}
    for kind, url in parser.found:
        with docs.get(urljoin(PAGE, url)) as resp:  # a file's answer holds it open until closed
            assert resp.status_code == 200, url
            assert resp.data, url
            if kind in expected:
                assert resp.mimetype in expected[kind], (url, resp.mimetype)
            else:
                assert resp.mimetype.startswith("image/"), (url, resp.mimetype)


def test_swagger_ui_is_the_packaged_build_and_is_cached(docs: FlaskClient) -> None:
    with docs.get("/apidoc/static/swagger-ui/swagger-ui-bundle.js") as resp:
        assert resp.status_code == 200
        assert b"SwaggerUIBundle" in resp.data
        assert "max-age=86400" in resp.headers["Cache-Control"]
        etag = resp.headers["ETag"]
    with docs.get("/apidoc/static/swagger-ui/swagger-ui-bundle.js", headers={"If-None-Match": etag}) as again:
        assert again.status_code == 304


def test_the_page_reads_the_served_openapi_document(docs: FlaskClient) -> None:
    _html, parser = page_references(docs)
    spec_urls = [value for value in parser.attributes if value.endswith("openapi.json")]
    assert spec_urls == ["/api/openapi.json"]
    document = docs.get(spec_urls[0]).get_json()
    assert document["openapi"].startswith("3.1")
    assert not [path for path in document["paths"] if path.startswith("/apidoc")]


def test_the_page_may_load_and_call_this_origin_only(docs: FlaskClient) -> None:
    policy = docs.get(PAGE).headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'none'"
    for name in ("script-src", "style-src", "connect-src"):
        assert directives[name] == "'self'", (name, directives[name])
    assert "unsafe" not in policy and "http" not in policy


@pytest.mark.parametrize(
    "path",
    [
        "/apidoc/scalar/",  # spectree's pages load their viewers from CDNs; none is registered
        "/apidoc/swagger/oauth2-redirect.html/",
        "/apidoc/static/swagger-ui/index.html",  # only the files the page uses are served from the package
        "/apidoc/static/swagger-ui/../LICENSE",
    ],
)
def test_no_other_docs_pages_or_package_files(docs: FlaskClient, path: str) -> None:
    assert docs.get(path).status_code == 404


def test_redoc_links_go_to_the_swagger_page(docs: FlaskClient) -> None:
    resp = docs.get("/apidoc/redoc/")
    assert resp.status_code == 302
    assert urlsplit(resp.headers["Location"]).path == PAGE
