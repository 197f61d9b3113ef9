"""Fixtures for the merchant, webhook and dashboard tests: two merchants and a carrier that scans."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import bearer
from tests.web.support import post_scan
from web.feeds.webhook_sender import FakeSender, sender_for


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


@pytest.fixture
def fake_webhooks(app: Flask) -> None:
    """Merchants' webhooks go to an in-process receiver that records them; loopback targets are allowed."""
    app.config.update(WEBHOOK_SENDER="fake", ALLOW_PRIVATE_WEBHOOK_TARGETS=True)


@pytest.fixture
def receiver(app: Flask, fake_webhooks: None) -> FakeSender:
    """The in-process receiver of the merchants' webhooks."""
    sender = sender_for(app)
    assert isinstance(sender, FakeSender)
    return sender
