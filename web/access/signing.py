"""Push signing, optional per carrier: a carrier with a secret signs every body it pushes, Stripe-style.

``Silkway-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}." + raw body bytes)>``. The
check runs over the raw request bytes before anything parses them, compares with
``hmac.compare_digest``, refuses a timestamp more than SIGNATURE_TOLERANCE_SECONDS away from our clock
(replays), accepts several ``v1`` values (a carrier signing with an old and a new secret while it
rotates) and fails closed: a carrier with a secret and a request without a good signature gets 401.
Carriers of format ``track17`` are checked with 17TRACK's own ``sign`` header instead, and those of
format ``aftership`` with AfterShip's ``aftership-hmac-sha256`` when they send it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets as random_secrets
import time
from collections.abc import Sequence
from datetime import datetime

from flask import current_app, request

from carriers.track17 import verify_signature as verify_track17
from tracking import models
from tracking.types import utcnow
from web.errors import Problem

SIGNATURE_HEADER = "Silkway-Signature"
TRACK17_HEADER = "sign"
AFTERSHIP_HEADER = "aftership-hmac-sha256"
SCHEME = "v1"


class SignatureRejected(Exception):
    """The request's signature is missing, malformed, wrong or stale; the message says which."""

    def __init__(self, detail: str, title: str = "Invalid Signature") -> None:
        super().__init__(detail)
        self.detail = detail
        self.title = title


def new_secret() -> str:
    """A fresh signing secret (256 random bits)."""
    return "whsec_" + random_secrets.token_urlsafe(32)


def compute(secret: str, timestamp: int, body: bytes) -> str:
    """The hex v1 signature of ``body`` sent at ``timestamp``."""
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(body: bytes, secrets: str | Sequence[str], timestamp: int | None = None) -> str:
    """The header value a carrier sends: one v1 per secret it holds (several while rotating)."""
    stamp = int(time.time()) if timestamp is None else timestamp
    keys = [secrets] if isinstance(secrets, str) else list(secrets)
    return ",".join([f"t={stamp}", *(f"{SCHEME}={compute(key, stamp, body)}" for key in keys)])


def parse_header(value: str) -> tuple[int, list[str]]:
    """The timestamp and the v1 signatures of a header value; SignatureRejected when malformed."""
    stamp: int | None = None
    signatures: list[str] = []
    for part in value.split(","):
        key, sep, item = part.strip().partition("=")
        if not sep:
            raise SignatureRejected(f"{SIGNATURE_HEADER} must look like t=<unix seconds>,v1=<hex>")
        if key == "t":
            if not item.isascii() or not item.isdigit() or len(item) > 12:
                raise SignatureRejected(f"{SIGNATURE_HEADER}: t must be a Unix time in seconds")
            stamp = int(item)
        elif key == SCHEME:
            signatures.append(item.strip().lower())
    if stamp is None or not signatures:
        raise SignatureRejected(f"{SIGNATURE_HEADER} needs a timestamp t= and at least one v1= signature")
    return stamp, signatures


def verify(body: bytes, header: str | None, secrets: Sequence[str], now: float, tolerance: int) -> None:
    """Accept the body if any v1 signature matches any secret within the replay window, else raise."""
    if not secrets:
        raise SignatureRejected("the carrier has no signing secret")
    if not header:
        raise SignatureRejected(
            f"this carrier signs its pushes: send the {SIGNATURE_HEADER} header", "Missing Signature"
        )
    stamp, signatures = parse_header(header)
    if abs(now - stamp) > tolerance:
        raise SignatureRejected(
            f"{SIGNATURE_HEADER} timestamp t={stamp} is {int(abs(now - stamp))} seconds away from the "
            f"server's clock; signatures are valid for {tolerance} seconds (replay window)",
            "Stale Signature",
        )
    expected = [compute(secret, stamp, body) for secret in secrets]
    matched = False
    for signature in signatures:
        for candidate in expected:
            # No early exit: the time taken does not say which signature or secret matched.
            matched |= hmac.compare_digest(candidate, signature)
    if not matched:
        raise SignatureRejected(f"no v1 signature in {SIGNATURE_HEADER} matches the body and the secret")


def active_secrets(carrier: models.Carrier, now: datetime | None = None) -> list[str]:
    """The secrets a push from ``carrier`` may be signed with: the current one, and the previous one
    until its grace period ends."""
    out = [carrier.signing_secret] if carrier.signing_secret else []
    until = carrier.previous_secret_until
    if carrier.previous_signing_secret and until is not None and until > (now or utcnow()):
        out.append(carrier.previous_signing_secret)
    return out


def check_push_signature(carrier: models.Carrier, raw: bytes) -> None:
    """Refuse the current request with 401 unless it is signed as the carrier's secret requires."""
    keys = active_secrets(carrier)
    if not keys:
        return
    if carrier.format == "track17":
        _check_track17(raw, keys)
        return
    aftership = request.headers.get(AFTERSHIP_HEADER) if carrier.format == "aftership" else None
    if aftership:  # AfterShip's own scheme; Silkway-Signature stays accepted for aftership carriers
        _check_aftership(raw, aftership, keys)
        return
    try:
        verify(
            raw,
            request.headers.get(SIGNATURE_HEADER),
            keys,
            time.time(),
            int(current_app.config["SIGNATURE_TOLERANCE_SECONDS"]),
        )
    except SignatureRejected as exc:
        raise _unauthorized(exc.title, exc.detail, SIGNATURE_HEADER) from None


SERVICE_HEADERS = {"track17": TRACK17_HEADER, "aftership": AFTERSHIP_HEADER}


def sign_stands_for_key(carrier: models.Carrier) -> bool:
    """True when a push of ``carrier`` authenticates by its service's own signature alone: 17TRACK and
    AfterShip post their webhooks to a URL set in their dashboards and cannot send a Bearer key, so a
    ``track17`` carrier with a secret (its API key) takes a request without ``Authorization`` but with
    ``sign``, an ``aftership`` carrier with a secret (its webhook secret) one with
    ``aftership-hmac-sha256``; check_push_signature then verifies it (401 when it does not match)."""
    header = SERVICE_HEADERS.get(carrier.format)
    return (
        header is not None
        and not request.headers.get("Authorization")
        and bool(request.headers.get(header))
        and bool(active_secrets(carrier))
    )


def aftership_signature(secret: str, body: bytes) -> str:
    """AfterShip's webhook signature: base64 HMAC-SHA256 of the raw body, keyed with the webhook secret."""
    return base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")


def _check_aftership(raw: bytes, header: str, keys: list[str]) -> None:
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(aftership_signature(key, raw), header.strip())
    if not matched:
        detail = f"the {AFTERSHIP_HEADER} header does not match the body and the webhook secret"
        raise _unauthorized("Invalid Signature", detail, AFTERSHIP_HEADER)


def _check_track17(raw: bytes, keys: list[str]) -> None:
    header = request.headers.get(TRACK17_HEADER)
    if not header:
        raise _unauthorized(
            "Missing Signature",
            f"this carrier signs its pushes: send 17TRACK's {TRACK17_HEADER} header",
            "sign",
        )
    if not any(verify_track17(raw, header, key) for key in keys):
        raise _unauthorized(
            "Invalid Signature", "the sign header does not match the body and the key", "sign"
        )


def _unauthorized(title: str, detail: str, header: str) -> Problem:
    slug = title.lower().replace(" ", "-")
    return Problem(401, title, detail, errors=[{"field": header, "error": detail}], slug=slug)
