"""Every error becomes application/problem+json (RFC 9457) on the API, naming the field or item at fault."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from flask import Flask, Response, request
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from tracking.accounts import CARRIER_CODE_RULE, is_carrier_code

log = logging.getLogger("silkway.web")

PROBLEM_TYPE = "https://silkway.dev/problems/"


class Problem(Exception):
    """An error answer: HTTP status, a short title, a detail sentence and optional per-field errors."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        errors: list[dict[str, Any]] | None = None,
        extra: dict[str, Any] | None = None,
        slug: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail or title
        self.errors = errors or []
        self.extra = extra or {}
        self.slug = slug or title.lower().replace(" ", "-")
        self.headers = headers or {}

    def response(self) -> Response:
        """The problem+json response."""
        body: dict[str, Any] = {
            "type": PROBLEM_TYPE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "errors": self.errors,
            **self.extra,
        }
        resp = Response(orjson.dumps(body), status=self.status, mimetype="application/problem+json")
        for name, value in self.headers.items():
            resp.headers[name] = value
        return resp


def json_response(body: Any, status: int = 200) -> Response:
    """A JSON response serialised with orjson (datetimes as ISO 8601 with their offset)."""
    return Response(orjson.dumps(body), status=status, mimetype="application/json")


def check_carrier_code(code: str, field: str = "carrier") -> str:
    """``code`` if it is a well-formed carrier code, else a 400 problem naming ``field`` (no lookup done)."""
    if not is_carrier_code(code):
        raise Problem(
            400,
            "Invalid Carrier Code",
            f"{field} {code[:60]!r} is not a carrier code: a code is {CARRIER_CODE_RULE}",
            errors=[{"field": field, "error": f"must be {CARRIER_CODE_RULE}"}],
            slug="invalid-carrier-code",
        )
    return code


NUL = "\x00"


def nul_problem(field: str, index: int | None = None) -> Problem:
    """The 400 for a NUL character in ``field``: no text Silkway keeps may hold one (PostgreSQL cannot
    store it; it is never meaningful), so it is refused on SQLite as on PostgreSQL, before any lookup."""
    where = {"index": index} if index is not None else {}
    error = "contains a NUL character (U+0000), which no text may hold"
    prefix = f"item {index}: " if index is not None else ""
    return Problem(
        400,
        "Invalid Text",
        f"{prefix}{field} {error}",
        errors=[{**where, "field": field, "error": error}],
        slug="invalid-text",
    )


def nul_path(doc: Any) -> tuple[str | int, ...] | None:
    """The path (keys and list positions) to the first string of a JSON document holding a NUL, or None.

    Iterative, so that a deeply nested body cannot exhaust the stack; a key holding a NUL counts too.
    """
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), doc)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if NUL in value:
                return path
        elif isinstance(value, dict):
            for key, item in reversed(list(value.items())):
                if NUL in key:
                    return (*path, key)
                stack.append(((*path, key), item))
        elif isinstance(value, list):
            stack.extend(((*path, position), item) for position, item in reversed(list(enumerate(value))))
    return None


def check_no_nul(doc: Any, items: str | None = None) -> None:
    """Raise the 400 of ``nul_problem`` if any text of a JSON body holds a NUL.

    For a batch (a bare list, or a list under the key ``items``) the error names the item by ``index``
    and the field inside it; otherwise the field is the dotted path (``events[2]`` for list positions).
    """
    path = nul_path(doc)
    if path is None:
        return
    index: int | None = None
    if path and isinstance(path[0], int):
        index, path = path[0], path[1:]
    elif items is not None and len(path) > 1 and path[0] == items and isinstance(path[1], int):
        index, path = path[1], path[2:]
    field = ""
    for part in path:
        field += f"[{part}]" if isinstance(part, int) else (f".{part}" if field else str(part))
    raise nul_problem(field.replace(NUL, "\\0") or "body", index)


def refuse_nul_in_request() -> None:
    """Before an API view: a NUL in a path segment or a query parameter is a 400 naming it."""
    if not request.path.startswith("/api/"):
        return
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str) and NUL in value:
            raise nul_problem(name)
    for name, value in request.args.items(multi=True):
        if NUL in name or NUL in value:
            raise nul_problem(name.replace(NUL, "\\0"))


def wants_html() -> bool:
    """True for page requests from browsers (not the API), which get an HTML error page instead."""
    if request.path.startswith("/api/") or request.path in {"/healthz", "/readyz", "/metrics"}:
        return False
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html"


def register(app: Flask) -> None:
    """Install the handlers that turn exceptions into problem+json, and the API's NUL guard."""
    app.before_request(refuse_nul_in_request)

    @app.errorhandler(Problem)
    def _problem(exc: Problem) -> Response:
        return exc.response()

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        if wants_html() and app.config.get("HTML_ERRORS", True):
            return exc
        status = exc.code or 500
        detail = exc.description or ""
        if status == 404:
            detail = f"no resource at {request.path}"
        elif status == 405:
            detail = f"{request.method} is not allowed on {request.path}"
        elif status == 413:
            detail = f"the request body is larger than {app.config['MAX_CONTENT_LENGTH']} bytes"
        headers = dict(exc.get_headers()) if status == 405 else {}
        headers.pop("Content-Type", None)
        return Problem(status, exc.name, detail, headers=headers).response()

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(DisconnectionError)
    def _database_unavailable(exc: Exception) -> Response:
        # The database went away, refused the connection or gave up on a lock: retry later, not a bug.
        log.warning("database unavailable on %s %s: %s", request.method, request.path, type(exc).__name__)
        return Problem(
            503,
            "Service Unavailable",
            "the database is unavailable or busy; retry in a few seconds",
            slug="database-unavailable",
            headers={"Retry-After": "5"},
        ).response()

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return Problem(
            500, "Internal Server Error", "an unexpected error occurred; it has been logged"
        ).response()
