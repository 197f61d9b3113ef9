"""The demo's ground truth is the demo's own table: not in the production schema, made by a demo build."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from flask import Flask
from sqlalchemy import Engine, func, insert, inspect, make_url, select, text

from tests.conftest import PG_ENV
from tracking import schema
from tracking.db import make_engine
from web import create_app
from web.cli import cli
from web.demo import truth
from web.demo.build import build

NOW = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)


@pytest.fixture
def empty_url(db_url: str, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all, on the backend of ``db_url``."""
    if make_url(db_url).get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    admin = make_engine(os.environ[PG_ENV], isolation_level="AUTOCOMMIT", pool_size=1)
    name = f"silkway_empty_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(db_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def empty_app(empty_url: str) -> Iterator[Flask]:
    application = create_app(
        {"TESTING": True, "DATABASE_URL": empty_url, "RATELIMIT_ENABLED": False, "SECRET_KEY": "test"}
    )
    yield application
    application.extensions["silkway.db"].dispose()


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def truth_row(number: str) -> dict[str, object]:
    return {
        "tracking_number": number, "last_mile_number": number, "last_mile_carrier": "russian-post",
        "merchant": "Shop", "service": "standard_air", "origin": "cn_shenzhen", "destination": "ru_moscow",
        "ordered_at": NOW, "shipped_at": NOW, "delivered_at": None, "fate": "in_flight",
        "events_sent": 0, "duplicates_sent": 0, "seed": 1, "updated_at": NOW,
    }


def test_db_upgrade_of_an_empty_database_makes_no_demo_table(empty_app: Flask, empty_url: str) -> None:
    result = empty_app.test_cli_runner().invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    names = tables(empty_url)
    assert "parcels" in names
    assert "demo_truth" not in names


def test_a_demo_build_makes_its_truth_table_and_records_every_parcel_in_it(
    empty_app: Flask, empty_url: str, tmp_path: Path
) -> None:
    access = logging.getLogger("silkway.access")
    level = access.level
    report = build(
        empty_app, days=2, seed=5, parcels_per_day=6, now=NOW, keys_path=tmp_path / "demo-keys.json"
    )
    assert report.parcels > 0
    # quiet while building, its own level again after: tests and servers in the process keep their log
    assert access.level == level
    assert "demo_truth" in tables(empty_url)
    engine = make_engine(empty_url)
    try:
        with engine.connect() as connection:
            count = connection.scalar(select(func.count()).select_from(truth.demo_truth))
            seeds = truth.world_seeds(connection)
    finally:
        engine.dispose()
    assert count == report.parcels
    assert seeds == {5: report.parcels}


def test_migration_0006_drops_the_empty_demo_truth_that_0002_made(empty_url: str) -> None:
    engine = make_engine(empty_url)
    try:
        schema.upgrade(engine, "0005")
        assert truth.exists(engine)
        schema.upgrade(engine)
        assert not truth.exists(engine)
    finally:
        engine.dispose()


def test_migration_0006_keeps_a_demo_truth_that_holds_a_demo_worlds_rows(empty_url: str) -> None:
    engine = make_engine(empty_url)
    try:
        schema.upgrade(engine, "0005")
        with engine.begin() as connection:
            connection.execute(insert(truth.demo_truth), [truth_row("RA000000001CN")])
        schema.upgrade(engine)
        with engine.connect() as connection:
            assert connection.scalars(select(truth.demo_truth.c.tracking_number)).all() == ["RA000000001CN"]
    finally:
        engine.dispose()


def test_downgrading_0006_recreates_demo_truth_as_0002_made_it(empty_url: str) -> None:
    engine = make_engine(empty_url)
    try:
        schema.upgrade(engine)
        config = schema.alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0005")
        assert constraint_names(engine) == ("pk_demo_truth", {"uq_demo_truth_tracking_number"})
        with engine.begin() as connection:
            connection.execute(insert(truth.demo_truth), [truth_row("RA000000002CN")])
    finally:
        engine.dispose()


def test_the_demo_makes_its_table_with_the_columns_and_constraint_names_0002_gave_it(empty_url: str) -> None:
    engine = make_engine(empty_url)
    try:
        schema.upgrade(engine)
        truth.create(engine)
        truth.create(engine)  # once there, left alone
        columns = [c["name"] for c in inspect(engine).get_columns("demo_truth")]
        assert constraint_names(engine) == ("pk_demo_truth", {"uq_demo_truth_tracking_number"})
    finally:
        engine.dispose()
    assert columns == [c.name for c in truth.demo_truth.columns]


def constraint_names(engine: Engine) -> tuple[str | None, set[str | None]]:
    inspector = inspect(engine)
    unique = {u["name"] for u in inspector.get_unique_constraints("demo_truth")}
    return inspector.get_pk_constraint("demo_truth")["name"], unique
