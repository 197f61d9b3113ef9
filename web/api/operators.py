"""The operators' API: the unmapped-codes report, carriers' push signing secrets and the numbers tracking
services refused (operator keys only)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
from flask import Blueprint, Response, request
from pydantic import BaseModel, Field
from spectree import Response as Doc
from sqlalchemy import select

from tracking import models
from tracking.accounts import CARRIER_CODE_REGEX
from tracking.connectors import rejections
from tracking.types import utcnow
from web.access.auth import require
from web.access.signing import SIGNATURE_HEADER, TRACK17_HEADER, new_secret
from web.api.schemas import ProblemBody
from web.db import commit_unit, get_session
from web.errors import Problem, check_carrier_code, check_no_nul, json_response
from web.openapi import BEARER, spec

bp = Blueprint("operators_api", __name__)

MAX_GRACE_SECONDS = 7 * 24 * 3600
SECRET_LENGTHS = (16, 200)
# SECRET_LENGTHS once stripped of white space at either end (and no NUL, which no text may hold)
SECRET_PATTERN = (
    rf"^\s*[^\s\u0000][^\u0000]{{{SECRET_LENGTHS[0] - 2},{SECRET_LENGTHS[1] - 2}}}[^\s\u0000]\s*$"
)


class UnmappedCodeOut(BaseModel):
    """A raw carrier code seen without a mapping."""

    carrier: str
    format: str
    code: str
    count: int = Field(description="how many scans carried it")
    first_seen: str
    last_seen: str


class UnmappedReport(BaseModel):
    """Raw codes without a mapping, most frequent first."""

    codes: list[UnmappedCodeOut]


class SigningSecretIn(BaseModel):
    """Set or rotate a carrier's signing secret; both fields are optional."""

    secret: str | None = Field(
        None,
        pattern=SECRET_PATTERN,
        description=f"the secret to use (e.g. a 17TRACK API key), {SECRET_LENGTHS[0]} to {SECRET_LENGTHS[1]} "
        "characters once stripped; default: a new one",
    )
    grace_seconds: int = Field(
        0, ge=0, le=MAX_GRACE_SECONDS, description="keep the previous secret valid this long (max 7 days)"
    )


class SigningSecretOut(BaseModel):
    """The new secret, shown once."""

    carrier: str
    secret: str
    header: str
    previous_secret_valid_until: str | None


@bp.get("/api/v1/operators/unmapped-codes")
@spec.validate(
    resp=Doc(
        HTTP_200=UnmappedReport,
        HTTP_400=ProblemBody,
        HTTP_401=ProblemBody,
        HTTP_403=ProblemBody,
        HTTP_404=ProblemBody,
    ),
    tags=["operators"],
    security=BEARER,
    skip_validation=True,
)
def unmapped_codes() -> Response:
    """Raw carrier codes that arrived without a mapping, most frequent first (``?carrier=CODE`` filters).

    Extend the carrier's code table, then run ``silkway reprocess --carrier CODE``: the stored payloads
    are parsed again and the codes that now have a mapping leave this report.
    """
    require("operator")
    session = get_session()
    query = (
        select(models.UnmappedCode, models.Carrier)
        .join(models.Carrier, models.Carrier.id == models.UnmappedCode.carrier_id)
        .order_by(models.UnmappedCode.count.desc(), models.Carrier.code, models.UnmappedCode.code)
    )
    code = request.args.get("carrier")
    if code is not None:
        _carrier(code, field="carrier")
        query = query.where(models.Carrier.code == code)
    rows = [
        {
            "carrier": carrier.code,
            "format": carrier.format,
            "code": unmapped.code,
            "count": unmapped.count,
            "first_seen": unmapped.first_seen,
            "last_seen": unmapped.last_seen,
        }
        for unmapped, carrier in session.execute(query).all()
    ]
    return json_response({"codes": rows})


@bp.post("/api/v1/operators/carriers/<code>/signing-secret")
@spec.validate(
    json=SigningSecretIn,
    resp=Doc(
        HTTP_200=SigningSecretOut,
        HTTP_400=ProblemBody,
        HTTP_401=ProblemBody,
        HTTP_403=ProblemBody,
        HTTP_404=ProblemBody,
    ),
    tags=["operators"],
    security=BEARER,
    skip_validation=True,
)
def set_signing_secret(code: str) -> Response:
    """Set or rotate the carrier's push signing secret; the answer shows it once.

    From then on the carrier's pushes must carry ``Silkway-Signature`` (17TRACK: its ``sign`` header).
    With ``grace_seconds`` the previous secret stays valid that long, so the carrier can switch over.
    """
    require("operator")
    body = _json_object()
    secret = body.get("secret")
    if secret is None:
        secret = new_secret()
    elif not isinstance(secret, str) or not SECRET_LENGTHS[0] <= len(secret.strip()) <= SECRET_LENGTHS[1]:
        raise _bad_field(
            "secret", f"secret must be a string of {SECRET_LENGTHS[0]} to {SECRET_LENGTHS[1]} characters"
        )
    grace = body.get("grace_seconds", 0)
    if isinstance(grace, float) and grace.is_integer():
        grace = int(grace)  # 68.0 is the whole number 68 in JSON (and in JSON Schema's "integer")
    if isinstance(grace, bool) or not isinstance(grace, int) or not 0 <= grace <= MAX_GRACE_SECONDS:
        raise _bad_field(
            "grace_seconds", f"grace_seconds must be a whole number from 0 to {MAX_GRACE_SECONDS}"
        )
    now = utcnow()

    def rotate() -> models.Carrier:
        carrier = _carrier(code)
        if grace and carrier.signing_secret:
            carrier.previous_signing_secret = carrier.signing_secret
            carrier.previous_secret_until = now + timedelta(seconds=grace)
        else:
            carrier.previous_signing_secret = carrier.previous_secret_until = None
        carrier.signing_secret = secret.strip()
        return carrier

    carrier = commit_unit(get_session(), rotate)
    until = carrier.previous_secret_until
    answer = json_response(
        {
            "carrier": carrier.code,
            "secret": carrier.signing_secret,
            "header": TRACK17_HEADER if carrier.format == "track17" else SIGNATURE_HEADER,
            "previous_secret_valid_until": until.isoformat() if until else None,
        }
    )
    answer.headers["Cache-Control"] = "no-store"
    return answer


@bp.delete("/api/v1/operators/carriers/<code>/signing-secret")
@spec.validate(
    resp=Doc(
        HTTP_204=None, HTTP_400=ProblemBody, HTTP_401=ProblemBody, HTTP_403=ProblemBody, HTTP_404=ProblemBody
    ),
    tags=["operators"],
    security=BEARER,
    skip_validation=True,
)
def delete_signing_secret(code: str) -> Response:
    """Stop requiring signed pushes from the carrier (its secrets are forgotten)."""
    require("operator")

    def forget() -> None:
        carrier = _carrier(code)
        carrier.signing_secret = carrier.previous_signing_secret = carrier.previous_secret_until = None

    commit_unit(get_session(), forget)
    return Response(status=204)


def _carrier(code: str, field: str | None = None) -> models.Carrier:
    check_carrier_code(code, field or "code")
    row = get_session().scalar(select(models.Carrier).where(models.Carrier.code == code))
    if row is None:
        errors = [{"field": field, "error": f"unknown carrier {code!r}"}] if field else []
        raise Problem(
            404, "Unknown Carrier", f"no carrier is registered with the code {code!r}", errors=errors
        )
    return row


def _json_object() -> dict[str, Any]:
    raw = request.get_data(cache=False)
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise Problem(400, "Invalid JSON", f"the body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise Problem(400, "Invalid JSON", "the body must be a JSON object")
    check_no_nul(body)  # PostgreSQL cannot store one (a secret holding NUL was a 500 there)
    return body


def _bad_field(field: str, message: str) -> Problem:
    return Problem(400, "Invalid Field", message, errors=[{"field": field, "error": message}])


class RejectionQuery(BaseModel):
    """Filter and paging for the refused numbers, newest first."""

    connector: str | None = Field(None, pattern=f"^{CARRIER_CODE_REGEX}$", description="e.g. track17")
    limit: int = Field(100, ge=1, le=500)
    cursor: int | None = Field(None, ge=1, description="next_cursor of the previous page")


class RejectionOut(BaseModel):
    """A number a tracking service refused: its code and words, the parcel and its merchant."""

    number: str
    connector: str
    carrier: str | None
    code: str | None = Field(
        description="the service's error code (17TRACK: -18019903 carrier not detected, ...)"
    )
    message: str | None
    parcel_id: int | None
    merchant: str | None
    attempts: int
    updated_at: str


class RejectionPage(BaseModel):
    """Refused numbers, newest first; ``next_cursor`` is null on the last page."""

    rejections: list[RejectionOut]
    next_cursor: int | None


@bp.get("/api/v1/operators/connector-rejections")
@spec.validate(
    query=RejectionQuery,
    resp=Doc(HTTP_200=RejectionPage, HTTP_400=ProblemBody, HTTP_401=ProblemBody, HTTP_403=ProblemBody),
    tags=["operators"],
    security=BEARER,
    skip_validation=True,
)
def connector_rejections() -> Response:
    """Numbers a tracking service refused (invalid, carrier not detected, quota spent), newest first.

    Filter by `connector`; page with `limit` (up to 500) and the previous page's `next_cursor`. A
    number refused because the quota was spent is registered again once the quota is positive; the
    others wait for a carrier corrected by hand (docs/connectors.md).
    """
    require("operator")
    args = request.args
    connector = args.get("connector")
    if connector is not None:
        check_carrier_code(connector, "connector")
    limit = _whole(args.get("limit"), "limit", 500) or 100
    before = _whole(args.get("cursor"), "cursor", 2**63 - 1)
    rows = rejections(get_session(), connector, limit + 1, before)
    page = rows[:limit]
    items = [
        {
            "number": r.number,
            "connector": r.connector,
            "carrier": r.carrier_code,
            "code": r.error_code,
            "message": r.message,
            "parcel_id": r.parcel_id,
            "merchant": r.merchant,
            "attempts": r.attempts,
            "updated_at": r.updated_at.isoformat(),
        }
        for _, r in page
    ]
    next_cursor = page[-1][0] if len(rows) > limit else None
    return json_response({"rejections": items, "next_cursor": next_cursor})


def _whole(raw: str | None, name: str, maximum: int) -> int | None:
    if raw is None:
        return None
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise _bad_field(name, f"{name} must be a whole number from 1 to {maximum}")
    return int(raw)
