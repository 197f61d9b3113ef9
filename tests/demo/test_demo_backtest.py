"""`silkway eta backtest` on a history the demo world generated, through the CLI."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask

from web.demo.build import build

NOW = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)


def rows(output: str) -> dict[tuple[str, str], tuple[int, float, float]]:
    """(predictor, checkpoint) -> (parcels, MAE hours, coverage) from the printed table."""
    found = {}
    pattern = r"^(learned|network prior|service median)\s+(\w+)\s+(\d+)\s+([\d.]+)\s+(\d+)%"
    for match in re.finditer(pattern, output, re.MULTILINE):
        name, checkpoint, n, mae, coverage = match.groups()
        found[(name, checkpoint)] = (int(n), float(mae), int(coverage) / 100)
    return found


@pytest.mark.slow
def test_backtest_on_a_demo_history_scores_arrivals_against_both_baselines(
    app: Flask, tmp_path: Path
) -> None:
    build(app, keys_path=tmp_path / "keys.json", days=75, seed=3, parcels_per_day=12, now=NOW)
    result = app.test_cli_runner().invoke(
        args=["eta", "backtest", "--test-days", "15", "--settle-days", "25", "--refit-days", "5"]
    )
    assert result.exit_code == 0, result.output
    table = rows(result.output)
    checkpoints = ("first_scan", "after_export", "after_import", "all")
    assert {(p, c) for p in ("learned", "network prior", "service median") for c in checkpoints} <= set(table)
    learned = re.search(r"models learned: (\d+)", result.output)
    assert learned and int(learned.group(1)) >= 3  # relearned every 5 days while test parcels travel
    assert re.search(r"(\d+) parcels first scanned in it, (\d+) of them delivered", result.output)
    assert "learned MAE / better baseline's: " in result.output
    # Once the parcel has cleared import, the milestone model knows far more than a flat median.
    assert table[("learned", "after_import")][1] < table[("service median", "after_import")][1]
    assert all(0.0 <= coverage <= 1.0 for _, _, coverage in table.values())
