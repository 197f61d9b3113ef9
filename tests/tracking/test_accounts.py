"""tracking.accounts on a real database: carriers, merchants and API keys stored only as their hash."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracking import models
from tracking.accounts import (
    AccountError,
    authenticate,
    check_carrier_code,
    create_key,
    ensure_carrier,
    ensure_merchant,
    hash_key,
    is_carrier_code,
)
from tracking.types import utcnow


@pytest.mark.parametrize("code", ["russian-post", "russian_post", "4px", "cdek", "a" * 40, "ab"])
def test_a_carrier_code_is_a_lower_case_slug_of_2_to_40_characters(code: str) -> None:
    assert is_carrier_code(code)
    assert check_carrier_code(code) == code


@pytest.mark.parametrize("code", ["Russian-Post", "a", "a" * 41, "acme\n", " acme", "acme post", "аcme", ""])
def test_anything_else_is_not_a_carrier_code(code: str) -> None:
    assert not is_carrier_code(code)


def test_a_bad_carrier_code_is_refused_naming_the_rule_and_at_most_60_of_its_characters() -> None:
    with pytest.raises(AccountError) as caught:
        check_carrier_code("X" * 100)
    message = str(caught.value)
    assert "2 to 40 lower-case letters, digits, - or _" in message
    assert "X" * 60 in message and "X" * 61 not in message


def test_a_new_carrier_gets_its_format_and_a_name_from_its_code(session: Session) -> None:
    carrier = ensure_carrier(session, "acme-express_cn", "canonical")
    assert (carrier.code, carrier.name, carrier.format) == ("acme-express_cn", "Acme Express Cn", "canonical")
    assert ensure_carrier(session, "yanwen", "yanwen", name="Yanwen Logistics").name == "Yanwen Logistics"


def test_a_known_carrier_is_returned_as_it_is_whatever_format_is_asked(session: Session) -> None:
    first = ensure_carrier(session, "cainiao", "cainiao")
    session.commit()
    again = ensure_carrier(session, "cainiao", "canonical")
    assert again.id == first.id and again.format == "cainiao"
    assert session.scalar(select(func.count()).select_from(models.Carrier)) == 1


def test_a_carrier_with_a_bad_code_is_never_stored(session: Session) -> None:
    with pytest.raises(AccountError):
        ensure_carrier(session, "Bad Code", "canonical")
    assert session.scalar(select(func.count()).select_from(models.Carrier)) == 0


def test_a_merchant_is_found_by_its_name_without_surrounding_spaces(session: Session) -> None:
    merchant = ensure_merchant(session, "  Shenzhen Gadgets ")
    assert merchant.name == "Shenzhen Gadgets"
    assert ensure_merchant(session, "Shenzhen Gadgets").id == merchant.id


@pytest.mark.parametrize("name", ["", "   ", "m" * 201])
def test_a_merchant_name_is_1_to_200_characters(session: Session, name: str) -> None:
    with pytest.raises(AccountError, match="1-200 characters"):
        ensure_merchant(session, name)


def test_a_key_is_shown_once_and_only_its_sha256_and_prefix_are_stored(session: Session) -> None:
    carrier = ensure_carrier(session, "cdek", "cdek")
    key = create_key(session, "carrier", carrier=carrier, label="first key")
    session.commit()
    row = session.scalars(select(models.ApiKey)).one()
    assert key.startswith("sw_car_") and len(key) > 40
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest() == hash_key(key)
    assert row.prefix == key[:12]
    assert key not in (row.key_hash, row.prefix, row.label)
    assert (row.role, row.carrier_id, row.merchant_id) == ("carrier", carrier.id, None)
    assert row.label == "first key"


def test_every_key_is_different(session: Session) -> None:
    keys = {create_key(session, "operator") for _ in range(20)}
    assert len(keys) == 20
    assert all(key.startswith("sw_ope_") for key in keys)


@pytest.mark.parametrize(
    ("role", "message"),
    [
        ("admin", "role must be one of carrier, merchant, operator"),
        ("carrier", "--carrier"),
        ("merchant", "--merchant"),
    ],
)
def test_a_key_needs_a_known_role_and_the_account_it_is_scoped_to(
    session: Session, role: str, message: str
) -> None:
    with pytest.raises(AccountError, match=message):
        create_key(session, role)


def test_a_key_authenticates_as_its_role_and_account(session: Session) -> None:
    carrier = ensure_carrier(session, "russian-post", "russian_post")
    merchant = ensure_merchant(session, "Yiwu Toys")
    carrier_key = create_key(session, "carrier", carrier=carrier)
    merchant_key = create_key(session, "merchant", merchant=merchant)
    session.commit()
    as_carrier = authenticate(session, carrier_key)
    as_merchant = authenticate(session, merchant_key)
    assert as_carrier is not None and as_merchant is not None
    assert (as_carrier.role, as_carrier.carrier_id, as_carrier.carrier_code, as_carrier.carrier_format) == (
        "carrier",
        carrier.id,
        "russian-post",
        "russian_post",
    )
    assert (as_merchant.role, as_merchant.merchant_id, as_merchant.merchant_name) == (
        "merchant",
        merchant.id,
        "Yiwu Toys",
    )
    assert as_merchant.carrier_id is None and as_carrier.merchant_id is None


def test_an_unknown_key_authenticates_as_nobody(session: Session) -> None:
    create_key(session, "operator")
    assert authenticate(session, "sw_ope_not-a-key") is None


def test_a_revoked_key_stops_working_when_its_revocation_time_comes(session: Session) -> None:
    past, future = create_key(session, "operator"), create_key(session, "operator")
    rows = {row.prefix: row for row in session.scalars(select(models.ApiKey))}
    rows[past[:12]].revoked_at = utcnow() - timedelta(seconds=1)
    rows[future[:12]].revoked_at = utcnow() + timedelta(hours=1)
    session.commit()
    assert authenticate(session, past) is None
    assert authenticate(session, future) is not None
