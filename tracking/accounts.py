"""Carriers, merchants and their API keys. Keys are random, shown once, and stored as SHA-256."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracking import models
from tracking.types import utcnow

ROLES = ("carrier", "merchant", "operator")
# A carrier code is a slug as AfterShip spells its couriers' (russian-post, china-ems, 4px), or one with
# underscores (russian_post): 2 to 40 lower-case letters, digits, - and _ (CONTRACT.md). This is the one
# definition: the CLI options, the HTTP path parameters and the OpenAPI document all check codes
# against it, always the whole string (so "acme\n" or " acme" is not a code).
CARRIER_CODE_REGEX = "[a-z0-9_-]{2,40}"
CODE_PATTERN = re.compile(CARRIER_CODE_REGEX)
CARRIER_CODE_RULE = "2 to 40 lower-case letters, digits, - or _ (e.g. russian-post, 4px, acme_post)"


class AccountError(ValueError):
    """A bad role, code or name given when creating an account or key."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request authenticates as: a role and the carrier or merchant it is scoped to."""

    key_id: int
    role: str
    carrier_id: int | None = None
    carrier_code: str | None = None
    carrier_format: str | None = None
    merchant_id: int | None = None
    merchant_name: str | None = None


def hash_key(key: str) -> str:
    """The stored form of a key; keys carry 256 bits of randomness, so a plain SHA-256 is enough."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def is_carrier_code(code: str) -> bool:
    """True when ``code`` is a well-formed carrier code (the whole string, no surrounding junk)."""
    return CODE_PATTERN.fullmatch(code) is not None


def check_carrier_code(code: str) -> str:
    """``code`` itself if it is a well-formed carrier code; AccountError saying what one looks like if not."""
    if not is_carrier_code(code):
        raise AccountError(f"carrier code {code[:60]!r} is not valid: a code is {CARRIER_CODE_RULE}")
    return code


def ensure_carrier(session: Session, code: str, fmt: str, name: str | None = None) -> models.Carrier:
    """The carrier with this code, registered with format ``fmt`` if it is new."""
    check_carrier_code(code)
    carrier = session.scalar(select(models.Carrier).where(models.Carrier.code == code))
    if carrier is None:
        default_name = " ".join(word.capitalize() for word in re.split(r"[-_]+", code) if word) or code
        carrier = models.Carrier(code=code, name=name or default_name, format=fmt)
        session.add(carrier)
        session.flush()
    return carrier


def ensure_merchant(session: Session, name: str) -> models.Merchant:
    """The merchant with this name, created if new."""
    name = name.strip()
    if not name or len(name) > 200:
        raise AccountError("merchant name must be 1-200 characters")
    merchant = session.scalar(select(models.Merchant).where(models.Merchant.name == name))
    if merchant is None:
        merchant = models.Merchant(name=name)
        session.add(merchant)
        session.flush()
    return merchant


def create_key(
    session: Session,
    role: str,
    *,
    carrier: models.Carrier | None = None,
    merchant: models.Merchant | None = None,
    label: str | None = None,
) -> str:
    """Create a key and return it in clear; only its hash is stored."""
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if role == "carrier" and carrier is None:
        raise AccountError("a carrier key needs --carrier CODE")
    if role == "merchant" and merchant is None:
        raise AccountError("a merchant key needs --merchant NAME")
    key = f"sw_{role[:3]}_{secrets.token_urlsafe(32)}"
    session.add(
        models.ApiKey(
            key_hash=hash_key(key),
            prefix=key[:12],
            role=role,
            carrier_id=carrier.id if carrier else None,
            merchant_id=merchant.id if merchant else None,
            label=label,
        )
    )
    session.flush()
    return key


def authenticate(session: Session, key: str) -> Principal | None:
    """The principal for a presented key, or None when it is unknown or revoked."""
    row = session.scalar(select(models.ApiKey).where(models.ApiKey.key_hash == hash_key(key)))
    if row is None or (row.revoked_at is not None and row.revoked_at <= utcnow()):
        return None
    return Principal(
        key_id=row.id,
        role=row.role,
        carrier_id=row.carrier_id,
        carrier_code=row.carrier.code if row.carrier else None,
        carrier_format=row.carrier.format if row.carrier else None,
        merchant_id=row.merchant_id,
        merchant_name=row.merchant.name if row.merchant else None,
    )
