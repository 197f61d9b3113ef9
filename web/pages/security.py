"""Security headers for the pages: a strict Content-Security-Policy (no scripts at all), no framing,
no MIME sniffing and no referrer, so a tracking number in a URL never leaks to another site."""

from __future__ import annotations

from flask import Flask, Response, request

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)


def _secure(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    # The API documentation pages under /api/ load their own viewer; everything else is ours.
    if not request.path.startswith("/api/"):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def register(app: Flask) -> None:
    """Add the security headers to every response."""
    app.after_request(_secure)
