"""The OpenAPI 3.1 document, generated from the views by spectree (served at /api/openapi.json).

Views are decorated with ``spec.validate(..., skip_validation=True)``: spectree documents them from the
pydantic models in web/api/schemas.py, while the views validate input themselves so that every error is a
problem+json naming the item and field at fault.

Every component is named by its model's class name alone (``RegistrationBody``, not spectree's
``RegistrationBody.6ff66e3`` with the module's hash, nor ``RegistrationBody.6ff66e3.ParcelRegistration``
for a nested one), so generated clients get plain, stable type names; class names are unique across the
schema modules (a test checks). spectree's automatic 422 (its own validation error, which the views
never answer since they validate themselves) is left out, and the answers every API operation can give
are added: 400 (a NUL character in a path segment or query parameter), 414 (web/access/request_target),
429 (rate limits), 503 (the database is unavailable) and, with a request body, 413. Text that may not
hold a NUL character says so (web/openapi_text.py).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from flask import Flask, Response
from pydantic import BaseModel
from spectree import SecurityScheme, SpecTree
from spectree.models import SecureType, SecuritySchemeData
from spectree.utils import get_model_key

from tracking.accounts import CARRIER_CODE_REGEX, CARRIER_CODE_RULE
from web.errors import json_response
from web.openapi_text import without_nul


class Undeclared422(BaseModel):
    """Stands for spectree's automatic 422 in the document as built; removed before it is served."""


def plain_name(model: Any) -> str:
    """A model's component name: its class name (spectree's own key without the module hash)."""
    return get_model_key(model).rsplit(".", 1)[0]


def nested_name(parent: str, child: str) -> str:
    """A nested model's component name: its own name (pydantic's key), not prefixed by its parent's."""
    return child


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
    naming_strategy=plain_name,
    nested_naming_strategy=nested_name,
    validation_error_model=Undeclared422,
)

BEARER: dict[str, list[str]] = {"bearer": []}
CARRIER_CODE_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": f"^{CARRIER_CODE_REGEX}$",
    "examples": ["russian-post", "4px", "acme_post"],
}
# The path segment after /carriers/ is a carrier code, whatever the view names its parameter.
CARRIER_SEGMENT = re.compile(r"/carriers/\{(\w+)\}")
# Answers every API operation may give, whatever its view does (web/errors.py, web/access/).
COMMON_ANSWERS = {
    "400": "Bad Request: among others, a NUL character in a path segment or query parameter (named)",
    "414": "URI Too Long: the path and query are longer than 4,096 bytes",
    "429": "Too Many Requests: over a rate limit (see Retry-After)",
    "503": "Service Unavailable: the database is unavailable or busy; retry in a few seconds",
}
BODY_TOO_LARGE = "Content Too Large: the body is larger than SILKWAY_MAX_CONTENT_LENGTH"
# The headers of those answers (web/access/limit_headers.py), as docs/contract.md describes them.
RETRY_AFTER = {"description": "seconds to wait before trying again", "schema": {"type": "integer"}}
LIMIT_HEADERS = {
    "RateLimit-Policy": {
        "description": 'the budgets met, draft-ietf-httpapi-ratelimit-headers: "public";q=120;w=60, ...',
        "schema": {"type": "string"},
    },
    "RateLimit": {
        "description": 'what remains of each budget and when it resets: "public";r=0;t=42, ...',
        "schema": {"type": "string"},
    },
}
ANSWER_HEADERS = {"429": {"Retry-After": RETRY_AFTER, **LIMIT_HEADERS}, "503": {"Retry-After": RETRY_AFTER}}
# API operations that never read the database, so never answer 503.
WITHOUT_DATABASE = {"/api/v1/tracking-numbers/{number}", "/api/v1/services"}


def register(app: Flask) -> None:
    """Attach spectree and serve the document at /api/openapi.json (its page is web/api/apidoc.py)."""
    spec.register(app)

    @app.get("/api/openapi.json", endpoint="api_document")
    def document() -> Response:
        if "silkway.openapi" not in app.extensions:
            document = common_answers(without_undeclared_422(spec.spec))
            document = csv_answers(carrier_code_parameters(problems_as_problem_json(document)))
            app.extensions["silkway.openapi"] = without_nul(document)
        return json_response(app.extensions["silkway.openapi"])


def without_undeclared_422(document: dict[str, Any]) -> dict[str, Any]:
    """The document without the 422 spectree adds to every operation that did not declare one."""
    out = copy.deepcopy(document)
    marker = f"#/components/schemas/{plain_name(Undeclared422)}"
    for operations in out.get("paths", {}).values():
        for operation in operations.values():
            answers = operation.get("responses") or {}
            schema = answers.get("422", {}).get("content", {}).get("application/json", {}).get("schema", {})
            if schema.get("$ref") == marker:
                del answers["422"]
    out.get("components", {}).get("schemas", {}).pop(plain_name(Undeclared422), None)
    return out


def common_answers(document: dict[str, Any]) -> dict[str, Any]:
    """The document with the answers every API operation can give (COMMON_ANSWERS; 413 with a body)."""
    out = copy.deepcopy(document)
    for path, operations in out.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for operation in operations.values():
            answers = operation.setdefault("responses", {})
            for status, description in COMMON_ANSWERS.items():
                if status == "503" and path in WITHOUT_DATABASE:
                    continue
                answers.setdefault(status, {"description": description})
                if status in ANSWER_HEADERS:
                    answers[status].setdefault("headers", ANSWER_HEADERS[status])
            if "requestBody" in operation:
                answers.setdefault("413", {"description": BODY_TOO_LARGE})
            operation["responses"] = dict(sorted(answers.items()))
    return out


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


# Operations whose 200 may also come as text/csv (Accept: text/csv or format=csv): path, method.
CSV_ANSWERS = {("/api/v1/parcels", "get")}


def csv_answers(document: dict[str, Any]) -> dict[str, Any]:
    """The document with text/csv beside application/json on the answers of CSV_ANSWERS."""
    out = copy.deepcopy(document)
    for path, method in CSV_ANSWERS:
        answer = out.get("paths", {}).get(path, {}).get(method, {}).get("responses", {}).get("200")
        if answer is not None:
            answer.setdefault("content", {})["text/csv"] = {
                "schema": {"type": "string", "description": "a header row, then one row per parcel"}
            }
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
