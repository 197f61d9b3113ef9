"""The OpenAPI 3.1 document, generated from the views by spectree (served at /api/openapi.json).

Views are decorated with ``spec.validate(..., skip_validation=True)``: spectree documents them from the
pydantic models in web/api/schemas.py, while the views validate input themselves so that every error is a
problem+json naming the item and field at fault.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from flask import Flask, Response
from spectree import SecurityScheme, SpecTree
from spectree.models import SecureType, SecuritySchemeData

from tracking.accounts import CARRIER_CODE_REGEX, CARRIER_CODE_RULE
from web.errors import json_response

spec = SpecTree(
    "flask",
    title="Silkway API",
    version="v1",
    # spectree leaves every route under its own path out of the document, so the docs page lives under
    # /apidoc and /api/openapi.json is served by document() below.
    path="apidoc",
    filename="openapi.json",
    # None of spectree's pages: they load their viewers from CDNs. web/api/apidoc.py serves Swagger UI.
    page_templates={},
    mode="strict",
    annotations=False,
    security_schemes=[
        SecurityScheme(name="bearer", data=SecuritySchemeData(type=SecureType.HTTP, scheme="bearer")),
    ],
    description="Parcel tracking and delivery-time prediction for the China to Russia corridor.",
)

BEARER: dict[str, list[str]] = {"bearer": []}
CARRIER_CODE_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": f"^{CARRIER_CODE_REGEX}$",
    "examples": ["russian-post", "4px", "acme_post"],
}
# The path segment after /carriers/ is a carrier code, whatever the view names its parameter.
CARRIER_SEGMENT = re.compile(r"/carriers/\{(\w+)\}")


def register(app: Flask) -> None:
    """Attach spectree and serve the document at /api/openapi.json (its page is web/api/apidoc.py)."""
    spec.register(app)

    @app.get("/api/openapi.json", endpoint="api_document")
    def document() -> Response:
        if "silkway.openapi" not in app.extensions:
            app.extensions["silkway.openapi"] = carrier_code_parameters(problems_as_problem_json(spec.spec))
        return json_response(app.extensions["silkway.openapi"])


def problems_as_problem_json(document: dict[str, Any]) -> dict[str, Any]:
    """The document with every error answer as application/problem+json of ProblemBody (web/errors.py).

    spectree documents every body as application/json, and its automatic 422 as its own ValidationError,
    while the views answer every error with problem+json.
    """
    out = copy.deepcopy(document)
    names = [name for name in out.get("components", {}).get("schemas", {}) if name.startswith("ProblemBody")]
    problem = {"$ref": f"#/components/schemas/{min(names, key=len)}"} if names else {"type": "object"}
    for operations in out.get("paths", {}).values():
        for operation in operations.values():
            for status, answer in (operation.get("responses") or {}).items():
                if status.isdigit() and int(status) >= 400:
                    answer["content"] = {"application/problem+json": {"schema": problem}}
    return out


def carrier_code_parameters(document: dict[str, Any]) -> dict[str, Any]:
    """The document with every carrier-code path parameter (``/carriers/{x}``) checked by the one pattern.

    spectree describes a plain Flask path variable only as a string; the views refuse a code that does
    not match tracking.accounts.CARRIER_CODE_REGEX with a 400 naming the parameter.
    """
    out = copy.deepcopy(document)
    for path, operations in out.get("paths", {}).items():
        names = set(CARRIER_SEGMENT.findall(path))
        if not names:
            continue
        for operation in operations.values():
            for parameter in operation.get("parameters") or []:
                if parameter.get("in") == "path" and parameter.get("name") in names:
                    parameter["schema"] = copy.deepcopy(CARRIER_CODE_SCHEMA)
                    described = parameter.get("description") or "the carrier's code"
                    parameter["description"] = f"{described}; a code is {CARRIER_CODE_RULE}"
    return out
