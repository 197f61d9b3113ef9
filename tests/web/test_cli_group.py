"""`silkway` is a plain click group: Silkway's commands only, no Flask `run`/`shell`/`routes`, no dotenv tip.

Its commands still run inside the app's context: the app of a test's ``app.test_cli_runner()``, or one
that create_app() makes from the SILKWAY_* environment.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask, current_app
from sqlalchemy import inspect

from tracking.db import make_engine
from web import create_app
from web.cli import cli

SILKWAY_COMMANDS = {
    "connectors",
    "db",
    "demo",
    "eta",
    "feeds",
    "import",
    "keys",
    "limiter",
    "reprocess",
    "scheduler",
    "serve-demo",
}
FLASK_COMMANDS = {"run", "shell", "routes"}
SCRIPT = Path(sys.executable).with_name("silkway")


def listed_commands(help_text: str) -> set[str]:
    """The names in the help's Commands section."""
    section = help_text.split("Commands:", 1)[1]
    return {match.group(1) for match in re.finditer(r"^  (\S+)", section, re.MULTILINE)}


def assert_silkway_help(text: str) -> None:
    assert "Usage: silkway" in text
    assert listed_commands(text) == SILKWAY_COMMANDS
    assert not FLASK_COMMANDS & listed_commands(text)
    assert "dotenv" not in text and "Tip:" not in text and ".env" not in text
    assert "--app" not in text and "--env-file" not in text and "--debug" not in text


@pytest.fixture
def dotenv_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with .env and .flaskenv files in it (FlaskGroup printed a tip for them)."""
    (tmp_path / ".env").write_text("SILKWAY_LOG_LEVEL=DEBUG\n", encoding="utf-8")
    (tmp_path / ".flaskenv").write_text("FLASK_APP=nowhere\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def plain_app() -> Flask:
    """An app for the runner; these tests open no database."""
    return create_app({"TESTING": True, "SECRET_KEY": "test"})


def test_help_through_the_app_runner_lists_silkway_commands_only(plain_app: Flask, dotenv_here: Path) -> None:
    result = plain_app.test_cli_runner().invoke(cli, ["--help"], prog_name="silkway")
    assert result.exit_code == 0, result.output
    assert_silkway_help(result.output)


def test_help_through_a_plain_click_runner(dotenv_here: Path) -> None:
    result = CliRunner().invoke(cli, ["--help"], prog_name="silkway")
    assert result.exit_code == 0, result.output
    assert_silkway_help(result.output)


@pytest.mark.parametrize("name", sorted(FLASK_COMMANDS))
def test_flask_commands_are_gone(name: str, dotenv_here: Path) -> None:
    result = CliRunner().invoke(cli, [name], prog_name="silkway")
    assert result.exit_code == 2
    assert f"No such command '{name}'" in result.output


@pytest.mark.skipif(not SCRIPT.exists(), reason="the silkway console script is not installed in this venv")
def test_help_of_the_installed_script(dotenv_here: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SILKWAY_")}
    run = subprocess.run(
        [str(SCRIPT), "--help"], cwd=dotenv_here, env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert_silkway_help(run.stdout)
    assert run.stderr == ""


def test_commands_run_in_the_context_of_the_runners_app(plain_app: Flask) -> None:
    seen: list[Flask] = []

    @cli.command("probe-context")
    def probe() -> None:
        seen.append(current_app._get_current_object())  # type: ignore[attr-defined]

    try:
        result = plain_app.test_cli_runner().invoke(cli, ["probe-context"])
    finally:
        cli.commands.pop("probe-context")
    assert result.exit_code == 0, result.output
    assert seen == [plain_app]


def test_without_a_runner_app_the_group_makes_one_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("SILKWAY_DATABASE_URL", url)
    result = CliRunner().invoke(cli, ["db", "upgrade"], prog_name="silkway")
    assert result.exit_code == 0, result.output
    assert "is at head" in result.output
    engine = make_engine(url)
    try:
        assert "parcels" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
