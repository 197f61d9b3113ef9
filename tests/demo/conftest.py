"""Fixtures of the demo world's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import delete

from web.demo import truth


@pytest.fixture(autouse=True)
def no_truth_left(app: Flask) -> Iterator[None]:
    """demo_truth is not one of tracking's tables, so the shared fixtures do not empty it: do it here
    (where an earlier build made it: a migrated database has no such table)."""
    engine = app.extensions["silkway.db"].engine
    with engine.begin() as connection:
        if truth.exists(connection):
            connection.execute(delete(truth.demo_truth))
    yield
