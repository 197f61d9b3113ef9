"""tracking.schema: the schema is made by the Alembic migrations, to exactly tracking's tables."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, inspect

from tracking import schema
from tracking.db import make_engine
from tracking.models import Base


def test_the_migrations_make_every_table_of_the_models(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_a_new_database_gets_tracking_tables_and_nothing_else(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    try:
        schema.upgrade(engine)
        assert set(inspect(engine).get_table_names()) == {*Base.metadata.tables, "alembic_version"}
    finally:
        engine.dispose()


def columns(engine: Engine) -> dict[str, list[tuple[str, str, bool]]]:
    inspector = inspect(engine)
    return {
        name: [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(name)]
        for name in Base.metadata.tables
    }


def test_upgrading_a_database_at_head_changes_nothing(engine: Engine) -> None:
    before = columns(engine)
    schema.upgrade(engine)
    assert columns(engine) == before


def test_the_alembic_configuration_points_at_the_migrations_and_keeps_a_percent_in_the_url() -> None:
    config = schema.alembic_config("postgresql+psycopg://silkway:p%40ss@db/silkway")
    assert config.get_main_option("script_location") == str(schema.MIGRATIONS)
    assert config.get_main_option("sqlalchemy.url") == "postgresql+psycopg://silkway:p%40ss@db/silkway"
    assert (schema.MIGRATIONS / "versions").is_dir()
