"""Shared fixtures for the routing tests: one engine over the bundled network with the prior model."""

from __future__ import annotations

import pytest

from routing.eta import EtaEngine


@pytest.fixture(scope="session")
def engine() -> EtaEngine:
    return EtaEngine()
