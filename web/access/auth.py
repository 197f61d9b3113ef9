"""Authentication and scopes, enforced in one place: a Bearer API key maps to a role and an owner.

Every request looks its key up in the database (one indexed SELECT by hash): there is no per-process
cache of keys, so a key revoked or past its rotation grace (``silkway keys revoke|rotate``) is refused by
every worker from the next request on. A key's "last used" is recorded at most once a minute
(tracking.accounts.LAST_USED_RESOLUTION): when the recorded use is older, the request's teardown writes
it in a short transaction of its own, after the request's session is closed.
"""

from __future__ import annotations

import logging

from flask import Flask, g, request
from sqlalchemy.exc import SQLAlchemyError

from tracking.accounts import Principal, authenticate, record_use, use_is_stale
from tracking.types import utcnow
from web.db import close_session, commit_unit, database, get_session
from web.errors import Problem

log = logging.getLogger("silkway.auth")
USED_KEY = "silkway_key_used"  # on g: the id of a key whose use is to be recorded at teardown


def init_app(app: Flask) -> None:
    """Record keys' last use when a request ends (in its trace, when traced: web/tracing.py's teardown,
    registered before this one, runs after it)."""
    app.teardown_request(record_key_use)


def record_key_use(_exc: BaseException | None = None) -> None:
    """Write the last use of the request's key, if it is due (see current_principal); never fails."""
    key_id = g.pop(USED_KEY, None)
    if key_id is None:
        return
    close_session()  # the request's transaction ends first: on SQLite it may hold the write lock
    session = database().session()
    try:
        commit_unit(session, lambda: record_use(session, key_id, utcnow()), retries=2)
    except SQLAlchemyError as exc:  # a missed "last used" is harmless: the next request records it
        log.warning("could not record the use of API key %s: %s", key_id, exc.__class__.__name__)
    finally:
        session.close()


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
    if use_is_stale(principal.last_used_at, utcnow()):
        g.setdefault(USED_KEY, principal.key_id)
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
