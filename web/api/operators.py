"""The operators' API: the unmapped-codes report and carriers' push signing secrets (operator keys only)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
from flask import Blueprint, Response, request
from pydantic import BaseModel, Field
from spectree import Response as Doc
from sqlalchemy import select

from tracking import models
from tracking.types import utcnow
from web.access.auth import require
from web.access.signing import SIGNATURE_HEADER, TRACK17_HEADER, new_secret
from web.api.schemas import ProblemBody
from web.db import commit_unit, get_session
from web.errors import Problem, check_carrier_code, json_response
from web.openapi import BEARER, spec

bp = Blueprint("operators_api", __name__)

MAX_GRACE_SECONDS = 7 * 24 * 3600
SECRET_LENGTHS = (16, 200)


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

    secret: str | None = Field(None, description="the secret to use (e.g. a 17TRACK API key); default: new")
    grace_seconds: int = Field(0, description="keep the previous secret valid this long (max 7 days)")


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
    return body


def _bad_field(field: str, message: str) -> Problem:
    return Problem(400, "Invalid Field", message, errors=[{"field": field, "error": message}])
