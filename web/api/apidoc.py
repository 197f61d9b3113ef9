"""The API documentation page, ``/apidoc/swagger/``: Swagger UI on ``/api/openapi.json``, with every script,
style and icon served by Silkway itself, so the page works without the internet.

Swagger UI's build is the one the flask-swagger-ui package ships (its ``dist/`` folder, served here under
``/apidoc/static/swagger-ui/``); the page's start-up script is ``web/static/apidoc/swagger-init.js``. The
page has no inline script, and its Content-Security-Policy lets it load and call this origin only.

spectree's own pages (which load their viewers from CDNs) are turned off in web/openapi.py. ReDoc has no
page: the only packaged build of it (offapi) makes spectree inline all its viewers, ~9 MB of templates,
into every process that imports it; ``/apidoc/redoc/`` sends old links to the Swagger UI page.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    make_response,
    redirect,
    render_template,
    send_from_directory,
    url_for,
)

bp = Blueprint("apidoc", __name__, url_prefix="/apidoc")

# Swagger UI runs under it without a violation (tests/browser/test_apidoc_browser.py): it sets styles
# through the DOM, not in markup, and its icons are data: images.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
# The Swagger UI files the page uses; the rest of dist/ (its demo index, OAuth2 redirect page) is not served.
SWAGGER_UI_FILES = frozenset(
    {"swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "favicon-16x16.png"}
)
ASSET_MAX_AGE = 24 * 3600


def swagger_ui_dist() -> Path:
    """flask-swagger-ui's copy of Swagger UI's dist/ folder (found without importing the package)."""
    found = importlib.util.find_spec("flask_swagger_ui")
    if found is None or not found.submodule_search_locations:
        raise RuntimeError("flask-swagger-ui is not installed; it ships the Swagger UI of /apidoc/swagger/")
    return Path(next(iter(found.submodule_search_locations))) / "dist"


@bp.get("/swagger/")
def swagger() -> Response:
    response = make_response(render_template("apidoc/swagger.html", spec_url=url_for("api_document")))
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/static/swagger-ui/<name>")
def swagger_ui_file(name: str) -> Response:
    if name not in SWAGGER_UI_FILES:
        abort(404)
    return send_from_directory(swagger_ui_dist(), name, max_age=ASSET_MAX_AGE)


@bp.get("/redoc/")
def redoc() -> Response:
    return redirect(url_for(".swagger"))  # type: ignore[return-value]
