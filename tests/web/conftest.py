"""Fixtures for the merchant, webhook and dashboard tests: two merchants and a carrier that scans."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import pytest
from flask.testing import FlaskClient

from tests.conftest import bearer
from tests.web.support import post_scan


@pytest.fixture
def shop_key(make_key: Callable[..., str]) -> str:
    """The API key of a merchant, "Shop One"."""
    return make_key("merchant", "Shop One")


@pytest.fixture
def shop(shop_key: str) -> dict[str, str]:
    """The Authorization header of "Shop One"."""
    return bearer(shop_key)


@pytest.fixture
def rival(make_key: Callable[..., str]) -> dict[str, str]:
    """The Authorization header of another merchant, "Shop Two"."""
    return bearer(make_key("merchant", "Shop Two"))


@pytest.fixture
def scan(client: FlaskClient, make_key: Callable[..., str]) -> Callable[..., None]:
    """``scan(number, status="in_transit", substatus="departed", at=an hour ago)`` as carrier acme_post."""
    return partial(post_scan, client, bearer(make_key("carrier", "acme_post")))
