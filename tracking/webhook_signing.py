"""Signing merchant webhooks: Standard Webhooks (standardwebhooks.com) and the deprecated Silkway-Signature.

Every delivery carries ``webhook-id`` (the event id, the same on every retry), ``webhook-timestamp``
(Unix seconds) and ``webhook-signature`` (``v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">``),
keyed with the base64-decoded part of the subscription's ``whsec_…`` secret, so any Standard Webhooks
library verifies it. Beside it, until the deprecation ends (docs/merchants.md), ``Silkway-Signature:
t=<unix>,v1=<hex HMAC-SHA256>`` keyed with the secret string the merchant was given (a pre-0010
subscription's ``legacy_secret``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of every secret, not a secret
LEGACY_HEADER = "Silkway-Signature"


def new_secret() -> str:
    """A fresh signing secret in the Standard Webhooks form: ``whsec_`` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signing_key(secret: str) -> bytes:
    """The key bytes of a ``whsec_…`` secret (its base64-decoded part)."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)


def standard_signature(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: ``v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>``."""
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(signing_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def standard_headers(secret: str, webhook_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers of one delivery attempt."""
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard_signature(secret, webhook_id, timestamp, body),
    }


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """The deprecated ``Silkway-Signature`` value: ``t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
