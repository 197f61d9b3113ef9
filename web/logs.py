"""Structured JSON logs with a request id; no keys, bodies or other secrets are ever logged."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

import orjson
from flask import Flask, Response, g, has_request_context, request

from web import tracing


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if has_request_context() and "request_id" in g:
            entry["request_id"] = g.request_id
        for key in (
            "method",
            "path",
            "status",
            "duration_ms",
            "carrier",
            "accepted",
            "duplicates",
            "rejected",
        ):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


JsonFormatter.converter = time.gmtime


def configure(level: str = "INFO", json_logs: bool = True) -> None:
    """Send Silkway's logs to stderr, as JSON lines unless asked otherwise."""
    root = logging.getLogger("silkway")
    root.setLevel(level)
    if not any(getattr(h, "_silkway", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler._silkway = True  # type: ignore[attr-defined]
        root.addHandler(handler)
        root.propagate = False
    for each in root.handlers:
        each.setFormatter(
            JsonFormatter() if json_logs else logging.Formatter("%(levelname)s %(name)s %(message)s")
        )


def init_app(app: Flask) -> None:
    """Give each request an id (its trace id when traced, else X-Request-ID when sane, else a new one)
    and log one line per request."""
    log = logging.getLogger("silkway.access")

    @app.before_request
    def _request_id() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        sane = incoming if 8 <= len(incoming) <= 64 and incoming.isascii() else None
        g.request_id = tracing.current_trace_id() or sane or uuid.uuid4().hex
        g.log_started = time.perf_counter()

    @app.after_request
    def _log(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        started = g.get("log_started")
        duration = round((time.perf_counter() - started) * 1000, 2) if started else None
        log.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": duration,
            },
        )
        return response
