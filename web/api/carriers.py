"""The carriers' API: each carrier pushes its native payloads with its own key."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from spectree import Response as Doc
from sqlalchemy import select

from tracking import models
from web.access.auth import require_carrier
from web.access.signing import check_push_signature, sign_stands_for_key
from web.api.schemas import CanonicalBody, IngestResult, ProblemBody
from web.db import commit_unit, get_session
from web.errors import Problem, check_carrier_code, json_response
from web.ingestion import (
    BatchRejected,
    PayloadUnreadable,
    UnsupportedContentType,
    accept_payload,
    check_content_type,
)
from web.metrics import record_ingest
from web.openapi import BEARER, spec
from web.places import resolver

bp = Blueprint("carriers_api", __name__)


@bp.post("/api/v1/carriers/<carrier>/events")
@spec.validate(
    json=CanonicalBody,
    resp=Doc(
        HTTP_200=IngestResult,
        HTTP_400=ProblemBody,
        HTTP_401=ProblemBody,
        HTTP_403=ProblemBody,
        HTTP_404=ProblemBody,
        HTTP_413=ProblemBody,
        HTTP_415=ProblemBody,
        HTTP_422=ProblemBody,
    ),
    tags=["carriers"],
    security=BEARER,
    skip_validation=True,
    path_parameter_descriptions={"carrier": "the code of the carrier whose key is presented"},
)
def post_events(carrier: str) -> Response:
    """Push a batch of events in the carrier's own format.

    The body is the carrier's native payload (its format is fixed when the carrier is registered):
    canonical JSON as documented here, Russian Post SOAP XML, Cainiao JSON, CDEK webhooks, 17TRACK
    webhooks or CSV. By default the batch is atomic: one invalid item rejects the whole batch (422,
    with every invalid item listed) and nothing is written. With `?partial=true` the valid items are
    stored and the invalid ones listed under `rejected`. Re-sending an event is harmless: it is
    counted under `duplicates`. Items the carrier answered for without events (a Russian Post batch
    item with an `Error`, e.g. 12: no data for that number) are not invalid: they are counted under
    `ignored` and named under `notices`, and the other items are stored. A malformed carrier code in
    the path is a 400 naming the field `carrier`; an empty body is a 400. 17TRACK posts its webhooks
    without a key: for a carrier of format `track17` with a signing secret (the 17TRACK API key) its
    `sign` header alone authenticates the push (401 when it does not match the body and the key).

    The `Content-Type` must be one of the carrier's format: `application/json` for canonical JSON and
    the JSON formats, `application/soap+xml`, `text/xml` or `application/xml` for Russian Post,
    `application/xml` or `text/xml` for CDEK v1, `text/csv` or `application/csv` for CSV; any other, or
    none, is a 415 naming the expected types. An event's `occurred_at` must be from
    2010-01-01T00:00:00Z to one day after now, else that item is invalid (field `occurred_at`); a
    canonical `location.country` must be an ISO 3166-1 alpha-2 code.
    """
    check_carrier_code(carrier)  # its shape is public (see the path parameter), so checked before the key
    session = get_session()
    row = session.scalar(select(models.Carrier).where(models.Carrier.code == carrier))
    if row is None:
        # Authenticate first so that probing for carrier codes needs a valid key.
        require_carrier(carrier)
        raise Problem(404, "Unknown Carrier", f"no carrier is registered with the code {carrier!r}")
    if not sign_stands_for_key(row):  # 17TRACK's webhooks carry its sign header, never a key
        require_carrier(carrier)
    raw = request.get_data(cache=False)
    check_push_signature(row, raw)
    if not raw:
        raise Problem(400, "Empty Body", "the request body is empty; send the carrier's payload")
    try:
        check_content_type(row, request.content_type)
    except UnsupportedContentType as exc:
        raise Problem(
            415,
            "Unsupported Media Type",
            str(exc),
            errors=[{"field": "Content-Type", "error": f"expected {' or '.join(exc.expected)}"}],
            extra={"expected": list(exc.expected)},
            slug="unsupported-media-type",
        ) from None
    partial = request.args.get("partial", "false").lower() in {"1", "true", "yes"}
    try:
        outcome = commit_unit(
            session,
            lambda: accept_payload(
                session,
                row,
                raw,
                request.content_type or "application/octet-stream",
                source="push",
                partial=partial,
                resolve=resolver(),
                max_events=current_app.config["MAX_BATCH_EVENTS"],
            ),
        )
    except PayloadUnreadable as exc:
        record_ingest(carrier, 0, 0, 1)
        raise Problem(400, "Unreadable Payload", str(exc), slug="unreadable-payload") from None
    except BatchRejected as exc:
        record_ingest(carrier, 0, 0, len(exc.errors))
        items = [e.as_dict() for e in exc.errors]
        raise Problem(
            422,
            "Invalid Items",
            f"{len(exc.errors)} of {exc.total} items are invalid; nothing was stored "
            "(fix them, or send ?partial=true to store the valid ones)",
            errors=items,
            extra={"accepted": 0, "duplicates": 0, "rejected": items},
            slug="invalid-items",
        ) from None
    record_ingest(carrier, outcome.accepted, outcome.duplicates, len(outcome.rejected))
    return json_response(outcome.as_dict())
