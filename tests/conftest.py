"""Fixtures: a real database (SQLite, and PostgreSQL when SILKWAY_TEST_POSTGRES_URL is set), an app, keys.

Every database test runs on both backends. The schema is built with Alembic (so every run tests the
migrations) once per session and backend; each test then starts from empty tables.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session

from tests.reliability.probe_report import print_figures
from tracking import schema
from tracking.accounts import create_key, ensure_carrier, ensure_merchant
from tracking.db import make_engine, make_session_factory
from tracking.models import Base
from web import create_app

PG_ENV = "SILKWAY_TEST_POSTGRES_URL"
BACKENDS = ["sqlite", "postgres"]


def _postgres_admin_url() -> str | None:
    url = os.environ.get(PG_ENV)
    if not url and os.environ.get("CI"):
        raise pytest.UsageError(f"CI must test PostgreSQL: set {PG_ENV}")
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated to head, copied for each test."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    schema.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session (and xdist worker), migrated to head."""
    admin_url = _postgres_admin_url()
    if admin_url is None:
        pytest.skip(f"{PG_ENV} is not set (CI always sets it)")
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT", pool_size=1)
    name = f"silkway_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # the server must be there when the variable says so
        pytest.fail(f"PostgreSQL at {admin_url} is unreachable: {exc}")
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    schema.upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """An empty, migrated database of each backend."""
    if request.param == "sqlite":
        path = tmp_path / "silkway.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    url: str = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on the test database."""
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the test database (tests commit through it like a request would)."""
    factory = make_session_factory(engine)
    with factory() as s:
        yield s


@pytest.fixture
def app(db_url: str) -> Iterator[Flask]:
    """The Flask app on the test database."""
    application = create_app(
        {"TESTING": True, "DATABASE_URL": db_url, "RATELIMIT_ENABLED": False, "SECRET_KEY": "test"}
    )
    yield application
    application.extensions["silkway.db"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client speaking real HTTP semantics to the app."""
    return app.test_client()


@pytest.fixture
def make_key(app: Flask) -> Callable[..., str]:
    """Create an API key: ``make_key("carrier", "cainiao")`` or ``make_key("merchant", "Shop")``."""

    def _make(role: str, owner: str | None = None, fmt: str | None = None) -> str:
        from carriers import BUILT_IN_FORMATS

        with app.app_context():
            s = app.extensions["silkway.db"].session()
            carrier = merchant = None
            if role == "carrier":
                assert owner
                carrier = ensure_carrier(s, owner, fmt or BUILT_IN_FORMATS.get(owner, "canonical"))
            elif role == "merchant":
                assert owner
                merchant = ensure_merchant(s, owner)
            key = create_key(s, role, carrier=carrier, merchant=merchant)
            s.commit()
            s.close()
        return key

    return _make


def bearer(key: str) -> dict[str, str]:
    """The Authorization header for a key."""
    return {"Authorization": f"Bearer {key}"}


DASHES = str.maketrans({"\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-"})
SPACES = str.maketrans({"\u00a0": " ", "\u2009": " ", "\u202f": " ", "\u200a": " "})


def plain_dashes(text: str) -> str:
    """Text with CLDR's dashes as ``-`` and its thin or no-break spaces as plain spaces, so that a test
    can state what a formatted date means without depending on one Babel release's punctuation."""
    return text.translate(DASHES).translate(SPACES)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The probe's figures (issue 14) at the end of the run, when its tests ran."""
    print_figures(terminalreporter)
