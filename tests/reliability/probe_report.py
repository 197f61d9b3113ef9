"""The figures of the probe's tests at the end of the session: the OpenAPI probe one line per role and
database, the worker kills and the concurrent writers one line per database.

tests/conftest.py calls ``print_figures`` from its ``pytest_terminal_summary``: under xdist only the
controller prints the summary, and it loads the top conftest only, not this directory's."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

OPENAPI = "openapi_probe"
OTHERS = "probe:"  # a user property named "probe:<what>" holds a JSON object of figures


def recorded(terminalreporter: pytest.TerminalReporter) -> list[tuple[str, dict[str, Any]]]:
    """(name, figures) of every probe property on the call reports (xdist workers send theirs too)."""
    found = []
    for outcome in ("passed", "failed"):
        for report in terminalreporter.stats.get(outcome, []):
            if getattr(report, "when", None) != "call":
                continue
            for name, value in getattr(report, "user_properties", []):
                if name == OPENAPI or name.startswith(OTHERS):
                    found.append((name, orjson.loads(value)))
    return found


def print_figures(terminalreporter: pytest.TerminalReporter) -> None:
    """Print what the probe's tests recorded."""
    found = recorded(terminalreporter)
    if not found:
        return
    terminalreporter.section("probe figures (issue 14)")
    rows = sorted((r for name, r in found if name == OPENAPI), key=lambda r: (r["database"], r["role"]))
    for row in rows:
        terminalreporter.write_line(
            f"schemathesis {row['database']:<10} {row['role']:<10} operations={row['operations']} "
            f"cases={row['cases']} requests={row['requests']} failures={row['failures']} "
            f"errors={row['errors']} 5xx={row['5xx']}"
        )
    if rows:
        keys = ("cases", "requests", "failures", "errors", "5xx")
        total = " ".join(f"{key}={sum(int(r[key]) for r in rows)}" for key in keys)
        terminalreporter.write_line(f"schemathesis all {len(rows)} runs: {total}")
    others = sorted(((n, f) for n, f in found if n != OPENAPI), key=lambda item: (item[0], str(item[1])))
    for name, figures in others:
        shown = ", ".join(f"{key}={value}" for key, value in figures.items())
        terminalreporter.write_line(f"{name.removeprefix(OTHERS)}: {shown}")
