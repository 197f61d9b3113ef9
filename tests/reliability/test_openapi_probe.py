"""The outside probe of issue 14, run by the suite: schemathesis with every check (`st run --checks all`)
against /api/openapi.json of a live gunicorn, for each role (no key, merchant, carrier and operator keys)
on SQLite and PostgreSQL. It must find no failure, and the server must answer no 5xx.

Its settings are tests/reliability/schemathesis.toml. Each run's figures (operations, cases, failures,
requests, 5xx) are recorded on its test report and printed at the end of the session
(tests/reliability/probe_report.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.reliability.probe_support import access_log_figures, live_world, role_headers

MAX_EXAMPLES = 8
CONFIG = Path(__file__).with_name("schemathesis.toml")
ROLES = ["anonymous", "merchant", "carrier", "operator"]


def run_schemathesis(
    base: str, headers: dict[str, str], report: Path, cwd: Path
) -> subprocess.CompletedProcess[str]:
    """``st run --checks all`` against the server's own document; its JSON report goes to ``report``."""
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(CONFIG),
        "--no-color",
        "run",
        f"{base}/api/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--workers",
        "1",
        "--report",
        "json",
        "--report-json-path",
        str(report),
        "--output-truncate",
        "true",
    ]
    for name, value in headers.items():
        command += ["--header", f"{name}: {value}"]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.slow
@pytest.mark.parametrize("role", ROLES)
def test_schemathesis_with_every_check_finds_nothing_for_the_role(
    role: str, db_url: str, tmp_path: Path, record_property: Any
) -> None:
    log = tmp_path / "gunicorn.log"
    with live_world(db_url, log) as world:
        outcome = run_schemathesis(world.base, role_headers(world, role), tmp_path / "report.json", tmp_path)
    assert (tmp_path / "report.json").exists(), outcome.stdout[-5000:] + outcome.stderr[-5000:]
    report = json.loads((tmp_path / "report.json").read_text())
    requests, server_errors, locked = access_log_figures(log)
    failures = sum(int(f["count"]) for f in report["failures"])
    figures = {
        "database": db_url.split(":", 1)[0].split("+", 1)[0],
        "role": role,
        "operations": report["operations"]["tested"],
        "cases": report["test_cases"]["generated"],
        "failures": failures,
        "errors": len(report["errors"]),
        "requests": requests,
        "5xx": server_errors,
    }
    record_property("openapi_probe", orjson.dumps(figures).decode())
    print(f"openapi probe: {figures}")
    assert report["complete"] and report["operations"]["tested"] == report["operations"]["selected"] >= 19
    assert report["test_cases"]["generated"] >= 100 and requests >= report["test_cases"]["generated"]
    assert (failures, len(report["errors"]), server_errors, locked) == (0, 0, 0, 0), outcome.stdout[-20000:]
    assert outcome.returncode == 0, outcome.stdout[-20000:]
