"""Authentication and scopes, enforced in one place: a Bearer API key maps to a role and an owner."""

from __future__ import annotations

from flask import g, request

from tracking.accounts import Principal, authenticate
from web.db import get_session
from web.errors import Problem


def current_principal() -> Principal | None:
    """The principal of the request's Bearer key, or None when no key was presented."""
    if "principal" in g:
        principal: Principal | None = g.principal
        return principal
    header = request.headers.get("Authorization", "")
    if not header:
        g.principal = None
        return None
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Problem(
            401,
            "Unauthorized",
            "use the header Authorization: Bearer <api key>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = authenticate(get_session(), key.strip())
    if principal is None:
        raise Problem(
            401, "Unauthorized", "the API key is unknown or revoked", headers={"WWW-Authenticate": "Bearer"}
        )
    g.principal = principal
    return principal


def require(role: str) -> Principal:
    """The request's principal, which must hold ``role`` (operators may act for anyone)."""
    principal = current_principal()
    if principal is None:
        raise Problem(
            401,
            "Unauthorized",
            f"this endpoint needs a {role} API key as a Bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if principal.role != role and principal.role != "operator":
        raise Problem(403, "Forbidden", f"this endpoint needs a {role} key, not a {principal.role} key")
    return principal


def require_carrier(code: str) -> Principal:
    """A carrier key that belongs to carrier ``code``: a carrier may only write its own events."""
    principal = require("carrier")
    if principal.role == "carrier" and principal.carrier_code != code:
        raise Problem(
            403,
            "Forbidden",
            f"this key belongs to carrier {principal.carrier_code!r}, "
            f"not {code!r}; a carrier may only post its own events",
        )
    return principal
