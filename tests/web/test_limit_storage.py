"""The start-up check of gunicorn.conf.py: several workers on memory:// would multiply every budget."""

from __future__ import annotations

import pytest

from web.access.limit_storage import check_workers, counts_per_process, effective_budgets, startup_config

MEMORY = {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}


def test_one_worker_or_shared_counters_or_no_limits_need_nothing():
    assert check_workers(MEMORY, 1) is None
    assert check_workers({**MEMORY, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379"}, 8) is None
    assert check_workers({**MEMORY, "RATELIMIT_ENABLED": False}, 8) is None


def test_several_workers_on_memory_are_refused_naming_the_real_budgets_and_the_ways_out():
    check = check_workers({**MEMORY, "RATELIMIT_MISSES": "30/minute;300/day"}, 4)
    assert check is not None and check.refuse
    assert "RATELIMIT_MISSES 120/minute;1200/day (configured 30/minute;300/day)" in check.message
    assert "RATELIMIT_PUBLIC 480/minute (configured 120/minute)" in check.message
    for way_out in ("redis://", "SILKWAY_WORKERS=1", "SILKWAY_RATELIMIT_ALLOW_PER_WORKER=true"):
        assert way_out in check.message


def test_allowed_per_worker_budgets_are_a_warning():
    check = check_workers({**MEMORY, "RATELIMIT_ALLOW_PER_WORKER": True}, 2)
    assert check is not None and not check.refuse
    assert "2 workers" in check.message and "RATELIMIT_MISSES 60/minute;600/day" in check.message


def test_budgets_multiply_with_their_periods():
    assert effective_budgets({"RATELIMIT_MISSES": "5 per 2 hours"}, 3)["RATELIMIT_MISSES"] == (
        "5 per 2 hours",
        "15/2 hours",
    )


@pytest.mark.parametrize("uri", [None, "", "memory://", "MEMORY://"])
def test_memory_is_the_default_and_counts_per_process(uri):
    assert counts_per_process(uri)


def test_the_start_up_config_reads_the_environment_as_create_app_does(monkeypatch):
    monkeypatch.setenv("SILKWAY_RATELIMIT_ALLOW_PER_WORKER", "true")
    monkeypatch.setenv("SILKWAY_RATELIMIT_STORAGE_URI", "redis://example:6379")
    config = startup_config()
    assert config["RATELIMIT_ALLOW_PER_WORKER"] is True
    assert config["RATELIMIT_STORAGE_URI"] == "redis://example:6379"
    assert config["RATELIMIT_MISSES"] == "30/minute;300/day"
