"""Operators' endpoints: liveness and readiness."""

from __future__ import annotations

import sqlite3
from urllib.parse import quote

from flask import Blueprint, Response
from spectree import Response as Doc
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from web.api.schemas import HealthOut, ProblemBody
from web.db import database
from web.errors import Problem, json_response
from web.openapi import spec

bp = Blueprint("health", __name__)


def _sqlite_file_opens() -> None:
    """On SQLite, open the file anew: pooled connections keep working on a file that new ones cannot open."""
    url = database().engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return
    conn = sqlite3.connect(f"file:{quote(url.database)}?mode=rw", uri=True, timeout=1)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    finally:
        conn.close()


@bp.get("/healthz")
@spec.validate(resp=Doc(HTTP_200=HealthOut), tags=["operators"], skip_validation=True)
def healthz() -> Response:
    """Liveness: the process answers."""
    return json_response({"status": "ok"})


@bp.get("/readyz")
@spec.validate(resp=Doc(HTTP_200=HealthOut, HTTP_503=ProblemBody), tags=["operators"], skip_validation=True)
def readyz() -> Response:
    """Readiness: the database answers a query."""
    engine = database().engine
    # One statement that only reads: on PostgreSQL in autocommit (one round trip, no BEGIN or ROLLBACK),
    # on SQLite a DEFERRED reader that never waits for the write lock.
    options = (
        {"isolation_level": "AUTOCOMMIT"}
        if engine.dialect.name == "postgresql"
        else {"sqlite_begin": "DEFERRED"}
    )
    try:
        with engine.connect().execution_options(**options) as conn:
            conn.execute(text("SELECT 1"))
        _sqlite_file_opens()
    except (SQLAlchemyError, sqlite3.Error) as exc:
        raise Problem(
            503,
            "Service Unavailable",
            f"the database is unreachable: {type(exc).__name__}",
            headers={"Retry-After": "5"},
        ) from None
    return json_response({"status": "ok", "database": "ok"})
