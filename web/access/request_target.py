"""The longest request target (path and query) the app answers: beyond it, 414 from the app itself.

gunicorn.conf.py lets request lines of up to 8,190 bytes through (``limit_request_line``, gunicorn's
maximum) so that a target longer than ``MAX_TARGET_BYTES`` reaches the app and is answered like every other
error: problem+json on ``/api/`` naming the limit, an HTML page elsewhere. Only lines beyond gunicorn's
limit get gunicorn's own plain 414.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Flask, request
from werkzeug.exceptions import RequestURITooLarge

MAX_TARGET_BYTES = 4096
# What a client sends unescaped in a path (RFC 3986 pchar and '/'); anything else arrives percent-encoded.
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"


def target_bytes() -> int:
    """How long the request's target was on the wire: the path as sent (percent-encoded) and the query."""
    environ = request.environ
    path = environ.get("PATH_INFO", "").encode("latin-1", "replace")
    query = environ.get("QUERY_STRING", "")
    rebuilt = len(quote(path, safe=_PATH_SAFE)) + (1 + len(query) if query else 0)
    return max(rebuilt, len(environ.get("RAW_URI") or ""))


def _check_target() -> None:
    length = target_bytes()
    if length > MAX_TARGET_BYTES:
        raise RequestURITooLarge(
            f"the request target (path and query) is {length} bytes; the limit is {MAX_TARGET_BYTES} bytes"
        )


def init_app(app: Flask) -> None:
    """Refuse over-long targets before any other work (rate limits, views)."""
    app.before_request_funcs.setdefault(None, []).insert(0, _check_target)
