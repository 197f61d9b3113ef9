"""tracking.accounts: a key's life after creation (found by prefix, last use, revoke, rotate) and the
migration that gave api_keys its last_used_at and replaced_by_id (0007), down and up again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, select
from sqlalchemy.orm import Session

from tracking import models, schema
from tracking.accounts import (
    LAST_USED_RESOLUTION,
    AccountError,
    authenticate,
    create_key,
    ensure_carrier,
    ensure_merchant,
    find_keys,
    list_keys,
    record_use,
    revoke_key,
    rotate_key,
)
from tracking.db import make_session_factory
from tracking.types import utcnow


def row_of(session: Session, key: str) -> models.ApiKey:
    [row] = find_keys(session, key[:12])
    return row


def test_find_keys_by_prefix_start_whole_prefix_or_whole_key(session: Session) -> None:
    first = create_key(session, "merchant", merchant=ensure_merchant(session, "Shop"))
    second = create_key(session, "operator")
    session.commit()
    assert [r.prefix for r in find_keys(session, first[:12])] == [first[:12]]
    assert [r.prefix for r in find_keys(session, first)] == [first[:12]]
    assert {r.prefix for r in find_keys(session, "sw_")} == {first[:12], second[:12]}
    assert find_keys(session, first[:12] + "x") == []  # longer than a prefix: only a whole key matches
    assert find_keys(session, "") == [] and find_keys(session, "   ") == []
    assert find_keys(session, "sw%") == [] and find_keys(session, "sw_me_") == []  # no SQL wildcards


def test_record_use_writes_at_most_once_per_resolution(session: Session) -> None:
    key = create_key(session, "operator")
    session.commit()
    key_id = row_of(session, key).id
    now = utcnow()
    assert record_use(session, key_id, now) is True
    assert record_use(session, key_id, now + LAST_USED_RESOLUTION - timedelta(seconds=1)) is False
    assert record_use(session, key_id, now + LAST_USED_RESOLUTION) is True
    session.commit()
    principal = authenticate(session, key)
    assert principal is not None and principal.last_used_at == now + LAST_USED_RESOLUTION


def test_revoke_is_idempotent_and_ends_a_grace_period(session: Session) -> None:
    key = create_key(session, "operator")
    row = row_of(session, key)
    now = utcnow()
    assert revoke_key(session, row, now) is True
    assert row.revoked_at == now
    assert revoke_key(session, row, now + timedelta(seconds=5)) is False
    assert row.revoked_at == now
    assert authenticate(session, key) is None


def test_rotate_keeps_role_owner_label_and_bounds_the_old_keys_life(session: Session) -> None:
    carrier = ensure_carrier(session, "acme-express", "canonical")
    old = create_key(session, "carrier", carrier=carrier, label="feed")
    now = utcnow()
    new = rotate_key(session, row_of(session, old), timedelta(hours=3), now)
    session.commit()
    old_row, new_row = row_of(session, old), row_of(session, new)
    assert old_row.revoked_at == now + timedelta(hours=3) and old_row.replaced_by_id == new_row.id
    assert (new_row.role, new_row.carrier_id, new_row.label, new_row.revoked_at) == (
        "carrier",
        carrier.id,
        "feed",
        None,
    )
    assert [r.prefix for r in list_keys(session, now + timedelta(hours=4))] == [new[:12]]
    assert len(list_keys(session, now + timedelta(hours=4), include_ended=True)) == 2
    assert len(list_keys(session, now + timedelta(hours=2), role="carrier", carrier=carrier)) == 2


def test_rotation_never_extends_a_revocation_already_scheduled(session: Session) -> None:
    key = create_key(session, "operator")
    row = row_of(session, key)
    soon = utcnow() + timedelta(minutes=5)
    row.revoked_at = soon
    rotate_key(session, row, timedelta(days=1), utcnow())
    assert row.revoked_at == soon


def test_a_revoked_a_rotated_or_a_negative_grace_is_refused(session: Session) -> None:
    now = utcnow()
    key = create_key(session, "operator")
    with pytest.raises(AccountError, match="negative"):
        rotate_key(session, row_of(session, key), timedelta(seconds=-1), now)
    rotate_key(session, row_of(session, key), timedelta(hours=1), now)
    with pytest.raises(AccountError, match="already rotated"):
        rotate_key(session, row_of(session, key), timedelta(hours=1), now)
    revoked = create_key(session, "operator")
    revoke_key(session, row_of(session, revoked), now)
    with pytest.raises(AccountError, match="revoked"):
        rotate_key(session, row_of(session, revoked), timedelta(hours=1), now)


def test_a_key_revoked_by_someone_else_meanwhile_is_not_rotated(engine: Engine) -> None:
    factory = make_session_factory(engine)
    with factory() as setup:
        key = create_key(setup, "operator")
        setup.commit()
    with factory() as first:
        stale = row_of(first, key)
        first.commit()  # the row is loaded, its transaction over (SQLite: the write lock released)
        with factory() as second:
            revoke_key(second, row_of(second, key), utcnow())
            second.commit()
        with pytest.raises(AccountError, match="meanwhile"):
            rotate_key(first, stale, timedelta(hours=1), utcnow())
        first.rollback()
    with factory() as check:
        assert len(check.scalars(select(models.ApiKey)).all()) == 1  # the successor was rolled back


def test_migration_0007_downgrades_and_upgrades_again_with_keys_in_place(engine: Engine) -> None:
    factory = make_session_factory(engine)
    with factory() as session:
        old = create_key(session, "merchant", merchant=ensure_merchant(session, "Shop"))
        rotate_key(session, row_of(session, old), timedelta(hours=1), utcnow())
        session.commit()
    config = schema.alembic_config(engine.url.render_as_string(hide_password=False))

    def api_key_columns() -> set[str]:
        return {column["name"] for column in inspect(engine).get_columns("api_keys")}

    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0006")
        assert api_key_columns().isdisjoint({"last_used_at", "replaced_by_id"})
        assert "revoked_at" in api_key_columns()
    finally:
        schema.upgrade(engine)
    assert {"last_used_at", "replaced_by_id"} <= api_key_columns()
    names = {fk["name"] for fk in inspect(engine).get_foreign_keys("api_keys")}
    assert "fk_api_keys_replaced_by_id_api_keys" in names
    with factory() as session:
        assert len(session.scalars(select(models.ApiKey)).all()) == 2
        assert authenticate(session, old) is not None  # still in its grace period
