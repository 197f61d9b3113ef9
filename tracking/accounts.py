"""Carriers, merchants and their API keys. Keys are random, shown once, and stored as SHA-256.

A key's life: created (``create_key``), used (``authenticate``, and ``record_use`` at most once a
``LAST_USED_RESOLUTION`` per key), found again by the prefix an operator sees (``find_keys``, ``list_keys``),
then rotated (``rotate_key``: a successor for the same role and owner, the old key refused once its grace
period ends) or revoked (``revoke_key``: refused from now on). ``revoked_at`` is the one instant from which
a key is refused, so every check (the API's, the dashboard's) honours revocations and rotations alike.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
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
# The stored prefix of a key: "sw_", the role's first three letters, "_" and five random characters.
PREFIX_LENGTH = 12
# "Last used" is kept to this resolution: a key in steady use costs one UPDATE this often, not one a request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


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
    last_used_at: datetime | None = None


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
            prefix=key[:PREFIX_LENGTH],
            role=role,
            carrier_id=carrier.id if carrier else None,
            merchant_id=merchant.id if merchant else None,
            label=label,
        )
    )
    session.flush()
    return key


def authenticate(session: Session, key: str) -> Principal | None:
    """The principal for a presented key, or None when it is unknown or revoked (or past its grace)."""
    row = session.scalar(select(models.ApiKey).where(models.ApiKey.key_hash == hash_key(key)))
    if row is None or not is_live(row, utcnow()):
        return None
    return Principal(
        key_id=row.id,
        role=row.role,
        carrier_id=row.carrier_id,
        carrier_code=row.carrier.code if row.carrier else None,
        carrier_format=row.carrier.format if row.carrier else None,
        merchant_id=row.merchant_id,
        merchant_name=row.merchant.name if row.merchant else None,
        last_used_at=row.last_used_at,
    )


def is_live(row: models.ApiKey, now: datetime) -> bool:
    """True while the key is accepted: never revoked, or revoked (rotated) from an instant still to come."""
    return row.revoked_at is None or row.revoked_at > now


def use_is_stale(last_used_at: datetime | None, now: datetime) -> bool:
    """True when a key's recorded last use is older than LAST_USED_RESOLUTION (or absent)."""
    return last_used_at is None or now - last_used_at >= LAST_USED_RESOLUTION


def record_use(session: Session, key_id: int, now: datetime) -> bool:
    """Record that key ``key_id`` was used at ``now``, unless a use under LAST_USED_RESOLUTION ago is
    already recorded (by another worker, say); True when it wrote. Flushes only."""
    result = session.execute(
        update(models.ApiKey)
        .where(
            models.ApiKey.id == key_id,
            or_(
                models.ApiKey.last_used_at.is_(None),
                models.ApiKey.last_used_at <= now - LAST_USED_RESOLUTION,
            ),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def owner(row: models.ApiKey) -> str:
    """Whom a key acts for: its carrier's code, its merchant's name, or "-" (an operator key)."""
    if row.carrier is not None:
        return row.carrier.code
    if row.merchant is not None:
        return row.merchant.name
    return "-"


def find_keys(session: Session, prefix: str) -> list[models.ApiKey]:
    """The keys that ``prefix`` designates: those whose stored prefix starts with it, or, given more
    characters than a stored prefix has, the one key it is in full (so a leaked key can be named as is)."""
    prefix = prefix.strip()
    if not prefix:
        return []
    if len(prefix) > PREFIX_LENGTH:
        found = session.scalar(select(models.ApiKey).where(models.ApiKey.key_hash == hash_key(prefix)))
        return [found] if found is not None else []
    query = (
        select(models.ApiKey)
        .where(models.ApiKey.prefix.startswith(prefix, autoescape=True))
        .order_by(models.ApiKey.created_at, models.ApiKey.id)
    )
    return list(session.scalars(query))


def list_keys(
    session: Session,
    now: datetime,
    *,
    role: str | None = None,
    carrier: models.Carrier | None = None,
    merchant: models.Merchant | None = None,
    include_ended: bool = False,
) -> Sequence[models.ApiKey]:
    """The keys, oldest first, optionally of one role or owner; revoked ones (and rotated ones past their
    grace) only with ``include_ended``."""
    query = select(models.ApiKey).order_by(models.ApiKey.created_at, models.ApiKey.id)
    if role is not None:
        query = query.where(models.ApiKey.role == role)
    if carrier is not None:
        query = query.where(models.ApiKey.carrier_id == carrier.id)
    if merchant is not None:
        query = query.where(models.ApiKey.merchant_id == merchant.id)
    if not include_ended:
        query = query.where(or_(models.ApiKey.revoked_at.is_(None), models.ApiKey.revoked_at > now))
    return session.scalars(query).all()


def revoke_key(session: Session, row: models.ApiKey, now: datetime) -> bool:
    """Refuse the key from ``now`` on (ending a rotated key's grace early); False, changing nothing, when
    it was already refused. Flushes only."""
    result = session.execute(
        update(models.ApiKey)
        .where(
            models.ApiKey.id == row.id,
            or_(models.ApiKey.revoked_at.is_(None), models.ApiKey.revoked_at > now),
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    if not getattr(result, "rowcount", 0):
        session.refresh(row)
        return False
    session.refresh(row)
    return True


def rotate_key(session: Session, row: models.ApiKey, grace: timedelta, now: datetime) -> str:
    """A new key in clear for the same role, owner and label as ``row``, which stays accepted for
    ``grace`` more (not beyond a revocation already scheduled) and is then refused. AccountError when
    ``row`` is revoked or was already rotated. Flushes only."""
    if grace < timedelta(0):
        raise AccountError("the grace period cannot be negative")
    if not is_live(row, now):
        raise AccountError(f"key {row.prefix} is revoked; create a new key with silkway keys create")
    if row.replaced_by_id is not None:
        successor = session.get(models.ApiKey, row.replaced_by_id)
        raise AccountError(
            f"key {row.prefix} was already rotated to {successor.prefix if successor else '?'}; rotate "
            f"that key, or revoke {row.prefix} to end its grace period now"
        )
    key = create_key(session, row.role, carrier=row.carrier, merchant=row.merchant, label=row.label)
    successor_id = session.scalar(select(models.ApiKey.id).where(models.ApiKey.key_hash == hash_key(key)))
    ends = now + grace
    if row.revoked_at is not None and row.revoked_at < ends:
        ends = row.revoked_at
    # Only if nobody revoked or rotated it meanwhile: two rotations at once do not both succeed.
    result = session.execute(
        update(models.ApiKey)
        .where(
            models.ApiKey.id == row.id,
            models.ApiKey.replaced_by_id.is_(None),
            or_(models.ApiKey.revoked_at.is_(None), models.ApiKey.revoked_at > now),
        )
        .values(revoked_at=ends, replaced_by_id=successor_id)
        .execution_options(synchronize_session=False)
    )
    if not getattr(result, "rowcount", 0):
        raise AccountError(f"key {row.prefix} was revoked or rotated meanwhile; nothing was changed")
    session.refresh(row)
    return key
