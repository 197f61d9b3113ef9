"""tracking.webhook_signing and migration 0010: Standard Webhooks signatures, and pre-0010 secrets kept."""

from __future__ import annotations

import base64
import secrets
from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import Engine, column, insert, select, table
from standardwebhooks import Webhook, WebhookVerificationError

from tests.tracking.helpers import merchant
from tracking import models, schema
from tracking.db import make_session_factory
from tracking.types import utcnow
from tracking.webhook_delivery import claim_batch, webhook_request
from tracking.webhook_signing import new_secret, signature_header, signing_key, standard_headers


def test_a_new_secret_is_the_whsec_form_of_32_random_bytes() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_") and len(signing_key(secret)) == 32
    assert secret != new_secret()


def test_standard_headers_verify_with_the_library_and_fail_for_another_body() -> None:
    secret, now = new_secret(), int(utcnow().timestamp())
    headers = standard_headers(secret, "evt_7", now, b'{"id":"evt_7"}')
    assert headers["webhook-id"] == "evt_7" and headers["webhook-timestamp"] == str(now)
    assert Webhook(secret).verify(b'{"id":"evt_7"}', headers) == {"id": "evt_7"}
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(b'{"id":"evt_8"}', headers)


def test_migration_0010_keeps_a_pre_0010_secret_working_for_both_signatures(engine: Engine) -> None:
    config = schema.alembic_config(engine.url.render_as_string(hide_password=False))
    legacy = "whsec_" + secrets.token_urlsafe(32)  # how subscriptions were made before 0010
    factory = make_session_factory(engine)
    with factory() as session:
        merchant_id = merchant(session)
        session.commit()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0009")
            names = ("merchant_id", "url", "events", "secret", "created_at")
            old = table("webhook_subscriptions", *(column(name) for name in names))
            values = (merchant_id, "http://127.0.0.1:9/h", "status_changed", legacy, utcnow())
            connection.execute(insert(old).values(dict(zip(names, values, strict=True))))
    finally:
        schema.upgrade(engine)
    now = utcnow()
    with factory() as session:
        row = session.scalars(select(models.WebhookSubscription)).one()
        assert row.legacy_secret == legacy
        # the standard form holds the very bytes of the URL-safe secret the merchant keeps
        assert signing_key(row.secret) == base64.urlsafe_b64decode(legacy.removeprefix("whsec_") + "=")
        message_row = models.OutboxMessage(
            subscription_id=row.id, parcel_id=1, event="status_changed", payload="{}", next_attempt_at=now
        )
        session.add(message_row)
        session.flush()
        [message] = claim_batch(session, now + timedelta(seconds=1), 10, timedelta(minutes=1))
        request = webhook_request(message, now)
        session.rollback()
    legacy_header = signature_header(legacy, int(now.timestamp()), request.body)
    assert request.headers["Silkway-Signature"] == legacy_header
    converted = "whsec_" + base64.b64encode(base64.urlsafe_b64decode(legacy[6:] + "=")).decode()
    assert Webhook(converted).verify(request.body, request.headers)["type"] == "status_changed"
