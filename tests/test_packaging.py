"""A wheel built from the tree has every file the packages load, and setuptools builds it without warnings.

The build runs on a copy of the tree (the four packages and the files setup.cfg names), so it leaves no
build/ folder behind and sees no stale egg-info; pip fetches the build backend named in pyproject.toml.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("tracking", "routing", "carriers", "web")
BUILD_FILES = ("setup.cfg", "pyproject.toml", "README.md", "LICENSE")
# setuptools' words for a folder that is installed although no package names it
STRAY_DATA = re.compile(r"absent from the `packages` configuration|as data is deprecated", re.IGNORECASE)

pytestmark = pytest.mark.slow


def _ignored(name: str) -> bool:
    return name == "__pycache__" or name.startswith(".") or name.endswith((".pyc", "~"))


def _ignore_names(_folder: str, names: list[str]) -> list[str]:
    return [name for name in names if _ignored(name)]


def tree_files() -> set[str]:
    """Every file under the four packages (modules and data), as paths relative to the tree's root."""
    out = set()
    for package in PACKAGES:
        for folder, dirs, files in os.walk(ROOT / package):
            dirs[:] = [d for d in dirs if not _ignored(d)]
            for name in files:
                if not _ignored(name):
                    out.add((Path(folder) / name).relative_to(ROOT).as_posix())
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, set[str]]:
    """(the build's log, the names in the wheel)."""
    source = tmp_path_factory.mktemp("source")
    for name in BUILD_FILES:
        shutil.copy2(ROOT / name, source / name)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, source / package, ignore=_ignore_names)
    out = tmp_path_factory.mktemp("wheel")
    run = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--verbose", str(source), "-w", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    log = run.stdout + run.stderr
    assert run.returncode == 0, log[-4000:]
    (wheel,) = out.glob("silkway-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return log, set(archive.namelist())


def test_the_build_names_every_folder_it_installs(built: tuple[str, set[str]]) -> None:
    log, _names = built
    stray = [line.strip() for line in log.splitlines() if STRAY_DATA.search(line)]
    assert not stray, "\n".join(stray)


def test_the_wheel_has_every_module_and_data_file(built: tuple[str, set[str]]) -> None:
    _log, names = built
    missing = sorted(tree_files() - names)
    assert not missing, missing


def test_the_wheel_has_the_files_the_code_loads(built: tuple[str, set[str]]) -> None:
    """Named ones, so an emptied folder in the tree cannot make the comparison above pass vacuously."""
    _log, names = built
    for name in (
        "routing/data/network.json",
        "routing/data/network.md",
        "carriers/data/russian_post_codes.json",
        "tracking/data/s10_operators.json",
        "tracking/data/number_formats.json",
        "tracking/migrations/env.py",
        "tracking/migrations/script.py.mako",
        "tracking/migrations/versions/0001_initial_schema.py",
        "web/templates/base.html",
        "web/templates/errors/error.html",
        "web/templates/apidoc/swagger.html",
        "web/static/apidoc/swagger-init.js",
        "web/static/silkway.css",
        "web/static/map/countries.json",
        "web/translations/ru/LC_MESSAGES/messages.mo",
        "web/translations/zh/LC_MESSAGES/messages.po",
        "web/demo/data/world.json",
    ):
        assert name in names, name


def test_the_wheel_holds_only_the_four_packages(built: tuple[str, set[str]]) -> None:
    _log, names = built
    tops = {name.split("/", 1)[0] for name in names}
    assert {top for top in tops if not top.endswith(".dist-info")} == set(PACKAGES)
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]
