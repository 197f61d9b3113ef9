"""The OpenAPI 3.1 document, generated from the views by spectree (served at /api/openapi.json).

Views are decorated with ``spec.validate(..., skip_validation=True)``: spectree documents them from the
pydantic models in web/schemas.py, while the views validate input themselves so that every error is a
problem+json naming the item and field at fault.
"""

from __future__ import annotations

import copy
from typing import Any

from flask import Flask, Response
from spectree import SecurityScheme, SpecTree
from spectree.models import SecuritySchemeData

from web.errors import json_response

spec = SpecTree(
    "flask",
    title="Silkway API",
    version="v1",
    # spectree leaves every route under its own path out of the document, so its pages live under
    # /apidoc and /api/openapi.json is served by document() below.
    path="apidoc",
    filename="openapi.json",
    mode="strict",
    annotations=False,
    security_schemes=[
        SecurityScheme(name="bearer", data=SecuritySchemeData(type="http", scheme="bearer")),
    ],
    description="Parcel tracking and delivery-time prediction for the China to Russia corridor.",
)

BEARER = {"bearer": []}


def register(app: Flask) -> None:
    """Attach spectree to the app and serve the document at /api/openapi.json."""
    spec.register(app)

    @app.get("/api/openapi.json", endpoint="api_document")
    def document() -> Response:
        if "silkway.openapi" not in app.extensions:
            app.extensions["silkway.openapi"] = problems_as_problem_json(spec.spec)
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
