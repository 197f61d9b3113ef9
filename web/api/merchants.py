"""The merchants' API: register parcels, list their own, subscribe webhooks and read the delivery log."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

import orjson
from flask import Blueprint, Response, current_app, request
from spectree import Response as Doc
from sqlalchemy.orm import Session

from tracking import models
from tracking.accounts import Principal
from tracking.connectors import correct_parcel, queue_parcels
from tracking.merchant_parcels import ParcelFilter, list_parcels, merchant_parcel, parcels_by_id
from tracking.plausibility import to_utc
from tracking.queries import public_parcel
from tracking.registration import Registered, RegistrationRejected, parse_registrations, register
from tracking.statuses import Status
from tracking.types import utcnow
from tracking.webhook_delivery import RedeliveryRefused, delivery_log, redeliver
from tracking.webhooks import (
    WebhookError,
    check_events,
    check_target_url,
    create_subscription,
    delete_subscription,
    enqueue_ping,
    find_subscription,
    subscriptions,
)
from web.access.auth import require
from web.api.connector_answers import parcel_states, states_by_number
from web.api.merchant_schemas import (
    CarrierCorrection,
    DeliveryPage,
    DeliveryQuery,
    DeliveryQueued,
    MerchantParcelDetail,
    ParcelPage,
    ParcelQuery,
    RegistrationAnswer,
    RegistrationBody,
    WebhookCreated,
    WebhookIn,
    WebhookList,
)
from web.api.network_lookup import check_place, check_service
from web.api.parcel_rows import CSV_LIMIT, LIST_PARAMETERS, csv_text, list_etas, public_url
from web.api.schemas import ProblemBody
from web.connectors.settings import rules
from web.db import commit_unit, get_session
from web.errors import Problem, check_carrier_code, check_no_nul, json_response
from web.feeds.webhook_sender import resolve_host
from web.openapi import BEARER, spec
from web.replicas import reading

bp = Blueprint("merchants_api", __name__)
RETRIES = 3
MAX_ID = 2**63 - 1  # parcel and delivery ids are 64-bit (BIGINT): a larger one names no row
# Webhook subscription ids are INTEGER (32-bit on PostgreSQL): the path takes only those, any other id is
# a 404 before the view runs (and never an out-of-range query).
SUBSCRIPTION_ID = f"int(min=1, max={2**31 - 1})"


def problems(*codes: int) -> dict[str, type[ProblemBody]]:
    """The error answers an operation gives, for its Doc (web/openapi.py adds 400, 414, 429 and 503 to
    every API operation, and 413 to those with a body)."""
    return {f"HTTP_{code}": ProblemBody for code in (400, 401, 403, *codes)}


def merchant() -> Principal:
    """The request's merchant key; operator keys have no merchant to act for."""
    principal = require("merchant")
    if principal.merchant_id is None:
        raise Problem(403, "Forbidden", "this endpoint needs a merchant key; an operator key has no merchant")
    return principal


def body_json(items: str | None = None) -> Any:
    """The request body parsed as JSON, or a 400 naming the problem (a NUL in any text included; for a
    batch under ``items``, or a bare list, by item ``index`` and field)."""
    raw = request.get_data(cache=True)
    if not raw:
        raise Problem(400, "Empty Body", "the request body is empty; send JSON")
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise Problem(
            400, "Invalid JSON", f"the body is not valid JSON: {exc}", slug="invalid-json"
        ) from None
    check_no_nul(doc, items)
    return doc


def parcel_json(parcel: models.Parcel) -> dict[str, Any]:
    """A parcel as its merchant sees it."""
    numbers = [i.number for i in parcel.identifiers]
    return {
        "id": parcel.id,
        "tracking_number": numbers[0] if numbers else None,
        "identifiers": numbers,
        "reference": parcel.reference,
        "status": parcel.status,
        "substatus": parcel.substatus,
        "status_at": parcel.status_at,
        "last_event_at": parcel.last_event_at,
        "origin": parcel.origin,
        "destination": parcel.destination,
        "service": parcel.service,
        "ship_at": parcel.ship_at,
        "delayed": parcel.stalled_at is not None,
        "stalled_at": parcel.stalled_at,
        "created_at": parcel.created_at,
        "updated_at": parcel.updated_at,
    }


def rejected(exc: RegistrationRejected) -> Problem:
    """The 422 or 409 answer to a refused registration batch, listing each item and field."""
    items = [e.as_dict() for e in exc.errors]
    if exc.status == 409:
        detail = (
            f"{len(items)} of {exc.total} parcels conflict with parcels registered before; nothing was stored"
        )
        return Problem(409, "Conflict", detail, errors=items, slug="registration-conflict")
    detail = f"{len(items)} problems in {exc.total} parcels; nothing was stored"
    return Problem(422, "Invalid Parcels", detail, errors=items, slug="invalid-parcels")


@bp.post("/api/v1/parcels")
@spec.validate(
    json=RegistrationBody,
    resp=Doc(HTTP_200=RegistrationAnswer, HTTP_201=RegistrationAnswer, **problems(409, 413, 422)),
    tags=["merchants"],
    security=BEARER,
    skip_validation=True,
)
def register_parcels() -> Response:
    """Register one parcel, or up to 1,000 under `parcels`, all or none.

    A malformed item makes the whole batch fail with 422, listing each item (`index`) and `field` at
    fault; a tracking number on another merchant's parcel, or on a parcel you registered under another
    reference, fails it with 409. A number Silkway has already seen in carrier scans is adopted: the
    registration attaches to that parcel. Registering the same `reference` again returns the parcel
    registered before (`created: false`). Answers 201 when anything was created, else 200.
    """
    principal = merchant()
    body = body_json("parcels")
    if isinstance(body, list):
        items, batch = body, True
    elif isinstance(body, dict) and "parcels" in body:
        items, batch = body["parcels"], True
    else:
        items, batch = [body], False
    if not isinstance(items, list):
        error = {"field": "parcels", "error": "parcels must be a list of parcel objects"}
        raise Problem(422, "Invalid Parcels", error["error"], errors=[error], slug="invalid-parcels")
    session = get_session()
    merchant_id = principal.merchant_id
    assert merchant_id is not None
    routes = rules(current_app.config)

    def work() -> list[Registered]:
        done = register(session, merchant_id, registrations)
        # Each number goes to the connector that reports on it, in this unit: the call waits for the job.
        queue_parcels(session, {d.parcel_id: d.identifiers for d in done}, routes, utcnow())
        return done

    try:
        registrations = parse_registrations(items, check_place, check_service)
        # Another request registering or scanning one of these numbers first makes the unit look again.
        done = commit_unit(session, work, retries=RETRIES)
    except RegistrationRejected as exc:
        raise rejected(exc) from None
    parcels = parcels_by_id(session, [d.parcel_id for d in done])
    states = states_by_number(session, (n for d in done for n in d.identifiers))
    out = [
        {
            **parcel_json(parcels[d.parcel_id]),
            "created": d.created,
            "connectors": parcel_states(states, d.identifiers),
        }
        for d in done
    ]
    status = 201 if any(d.created for d in done) else 200
    return json_response({"parcels": out} if batch else out[0], status)


def encode_cursor(*values: Any) -> str:
    """An opaque cursor."""
    return base64.urlsafe_b64encode(orjson.dumps(list(values))).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    """The values inside a cursor, or a 422 naming the ``cursor`` parameter."""
    try:
        values = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list):
            raise ValueError
        return values
    except ValueError:
        raise invalid_query("cursor", "not a cursor this API gave out") from None


def invalid_query(name: str, error: str) -> Problem:
    """A 422 naming the query parameter at fault."""
    return Problem(
        422,
        "Invalid Query",
        f"{name}: {error}",
        errors=[{"field": name, "error": error}],
        slug="invalid-query",
    )


def query_limit(default: int = 100, maximum: int = 500) -> int:
    """The ``limit`` parameter, 1 to ``maximum``."""
    raw = request.args.get("limit")
    if raw is None:
        return default
    try:
        limit = int(raw)
    except ValueError:
        raise invalid_query("limit", "must be a whole number") from None
    if not 1 <= limit <= maximum:
        raise invalid_query("limit", f"must be between 1 and {maximum}")
    return limit


def query_moment(name: str, raw: str) -> datetime:
    """An ISO 8601 instant with an offset from the query string."""
    try:
        moment = datetime.fromisoformat(raw.replace(" ", "+"))
    except ValueError:
        raise invalid_query(name, "must be ISO 8601, e.g. 2026-11-20T08:00:00+03:00") from None
    if moment.tzinfo is None:
        raise invalid_query(name, "needs a UTC offset, e.g. 2026-11-20T08:00:00Z")
    if to_utc(moment) is None:
        raise invalid_query(name, "is past the end (or before the start) of the calendar once in UTC")
    return moment


def cursor_id(value: Any) -> int:
    """A row id from a cursor: a whole number from 1 to MAX_ID, else the cursor is not one of ours."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise invalid_query("cursor", "not a cursor this API gave out")
    return value


def parcel_filter() -> ParcelFilter:
    """The listing filters from the query string."""
    args = request.args
    statuses: tuple[str, ...] = ()
    # A parameter given empty (?status=, ?updated_since=) is refused like any other value it cannot be.
    if "status" in args:
        statuses = tuple(s.strip() for s in args["status"].split(","))
        known = {s.value for s in Status}
        for status in statuses:
            if status not in known:
                raise invalid_query(
                    "status", f"unknown status {status!r}; expected one of {', '.join(known)}"
                )
    delayed = None
    if "delayed" in args:
        flag = args["delayed"].lower()
        if flag not in {"true", "false", "1", "0"}:
            raise invalid_query("delayed", "must be true or false")
        delayed = flag in {"true", "1"}
    since = query_moment("updated_since", args["updated_since"]) if "updated_since" in args else None
    moments = {n: query_moment(n, args[n]) for n in ("created_since", "created_before") if n in args}
    texts: dict[str, str] = {}
    for name in ("reference", "origin", "destination", "carrier"):
        if name in args:
            if not args[name].strip():
                raise invalid_query(name, "must not be empty")
            if len(args[name]) > 200:
                raise invalid_query(name, "must be at most 200 characters")
            texts[name] = args[name].strip()
    for name in ("origin", "destination"):
        if name in texts:
            try:
                texts[name] = check_place(texts[name], name)
            except ValueError as exc:
                raise invalid_query(name, str(exc)) from None
    if "carrier" in texts:
        check_carrier_code(texts["carrier"])
    return ParcelFilter(
        statuses,
        delayed,
        since,
        reference=texts.get("reference"),
        origin=texts.get("origin"),
        destination=texts.get("destination"),
        carrier=texts.get("carrier"),
        created_since=moments.get("created_since"),
        created_before=moments.get("created_before"),
    )


def wants_csv() -> bool:
    """Whether the list is asked for as CSV: ``format=csv``, or an Accept preferring text/csv."""
    chosen = request.args.get("format")
    if chosen is not None:
        if chosen not in {"json", "csv"}:
            raise invalid_query("format", "must be json or csv")
        return chosen == "csv"
    return request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv"


def known_parameters_only(known: frozenset[str]) -> None:
    """A 400 naming every query parameter the operation does not take."""
    unknown = sorted(set(request.args) - known)
    if unknown:
        raise Problem(
            400,
            "Unknown Query Parameter",
            f"unknown query parameter{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}; "
            f"this operation takes {', '.join(sorted(known))}",
            errors=[{"field": name, "error": "unknown query parameter"} for name in unknown],
            slug="unknown-query-parameter",
        )


@bp.get("/api/v1/parcels")
@spec.validate(
    query=ParcelQuery,
    resp=Doc(HTTP_200=ParcelPage, **problems(422)),
    tags=["merchants"],
    security=BEARER,
    skip_validation=True,
)
def list_own_parcels() -> Response:
    """Your parcels, in order of last update, each with its `eta` (p10/p50/p90, or null) and public `url`.

    Filters (all combine): `reference` (exact), `status` (one or several, comma-separated), `delayed`,
    `origin` and `destination` (a city name or place id: the lane), `carrier` (a number read as, or
    scanned by, that carrier), `updated_since`, and the creation window `created_since` (inclusive) to
    `created_before` (exclusive). Any other query parameter is a 400 naming it. Page with `limit` (up to
    500) and the `next_cursor` of the previous page (null on the last page). Reading pages in turn misses
    none and repeats none; a parcel updated meanwhile reappears later.

    `Accept: text/csv` or `format=csv` exports the filtered list as CSV (a header row, then one row per
    parcel; the ETA in `eta_p10`, `eta_p50`, `eta_p90`): up to 10,000 rows (`limit`), the next page's
    cursor in the `Silkway-Next-Cursor` header when there are more.
    """
    principal = merchant()
    assert principal.merchant_id is not None
    known_parameters_only(LIST_PARAMETERS)
    where = parcel_filter()
    as_csv = wants_csv()
    limit = query_limit(CSV_LIMIT, CSV_LIMIT) if as_csv else query_limit()
    after = None
    if request.args.get("cursor"):
        values = decode_cursor(request.args["cursor"])
        if len(values) != 2 or not isinstance(values[0], str):
            raise invalid_query("cursor", "not a cursor this API gave out")
        after = (query_moment("cursor", values[0]), cursor_id(values[1]))
    merchant_id = principal.merchant_id
    base = str(current_app.config["PUBLIC_URL"])

    def read(session: Session) -> tuple[list[dict[str, Any]], bool]:
        rows = list_parcels(session, merchant_id, where, limit + 1, after)
        etas = list_etas(session, rows[:limit])
        items = [
            {**(out := parcel_json(p)), "eta": etas[p.id], "url": public_url(base, out["tracking_number"])}
            for p in rows[:limit]
        ]
        return items, len(rows) > limit

    items, more = reading(read)
    next_cursor = None
    if more:
        last = items[-1]
        next_cursor = encode_cursor(last["updated_at"].isoformat(), last["id"])
    if as_csv:
        answer = Response(csv_text(items), mimetype="text/csv")
        answer.headers["Content-Disposition"] = 'attachment; filename="parcels.csv"'
        if next_cursor is not None:
            answer.headers["Silkway-Next-Cursor"] = next_cursor
        return answer
    return json_response({"parcels": items, "next_cursor": next_cursor})


@bp.get("/api/v1/merchant/parcels/<path:tracking_number>")
@spec.validate(
    resp=Doc(HTTP_200=MerchantParcelDetail, **problems(404)),
    tags=["merchants"],
    security=BEARER,
    skip_validation=True,
)
def get_own_parcel(tracking_number: str) -> Response:
    """Your parcel by any of its numbers, with your reference and its timeline (404 if not yours)."""
    principal = merchant()
    assert principal.merchant_id is not None
    session = get_session()
    parcel = merchant_parcel(session, principal.merchant_id, tracking_number)
    view = public_parcel(session, tracking_number) if parcel is not None else None
    if parcel is None or view is None:
        raise Problem(
            404,
            "Parcel Not Found",
            f"you have no parcel with the tracking number {tracking_number!r}",
            slug="parcel-not-found",
        )
    events = [
        {
            "status": e.status,
            "substatus": e.substatus,
            "occurred_at": e.occurred_at,
            "location": None
            if e.location_name is None and e.country is None
            else {
                "name": e.location_name,
                "country": e.country,
                "lat": e.lat,
                "lon": e.lon,
                "place_id": e.place_id,
            },
            "description": e.description,
            "carrier": e.carrier,
            "raw_code": e.raw_code,
        }
        for e in view.events
    ]
    numbers = [i.number for i in parcel.identifiers]
    connectors = parcel_states(states_by_number(session, numbers), numbers)
    return json_response({**parcel_json(parcel), "events": events, "connectors": connectors})


@bp.patch("/api/v1/merchant/parcels/<path:tracking_number>")
@spec.validate(
    json=CarrierCorrection,
    resp=Doc(HTTP_200=MerchantParcelDetail, **problems(404, 413, 422)),
    tags=["merchants"],
    security=BEARER,
    skip_validation=True,
)
def correct_own_parcel(tracking_number: str) -> Response:
    """Correct the carrier of your parcel when its number was read wrong: `{"carrier": "yanwen"}`.

    The tracking services its numbers are registered with are told (17TRACK: changecarrier) by the
    connectors' job; a number a service refused is registered again with that carrier. Answers the
    parcel as `GET` does; `connectors` shows the change owed until the service has answered.
    """
    principal = merchant()
    assert principal.merchant_id is not None
    body = body_json()
    unknown = sorted(set(body) - {"carrier"}) if isinstance(body, dict) else []
    carrier = body.get("carrier") if isinstance(body, dict) else None
    if not isinstance(carrier, str) or unknown:
        field, error = (
            (unknown[0], "unknown field") if unknown else ("carrier", "carrier is required (a string)")
        )
        raise Problem(422, "Invalid Correction", error, errors=[{"field": field, "error": error}])
    check_carrier_code(carrier)
    session = get_session()
    parcel = merchant_parcel(session, principal.merchant_id, tracking_number)
    if parcel is None:
        raise Problem(
            404,
            "Parcel Not Found",
            f"you have no parcel with the tracking number {tracking_number!r}",
            slug="parcel-not-found",
        )
    parcel_id, numbers = parcel.id, [i.number for i in parcel.identifiers]
    routes = rules(current_app.config)
    commit_unit(session, lambda: correct_parcel(session, parcel_id, numbers, carrier, routes, utcnow()))
    answer: Response = get_own_parcel(tracking_number)
    return answer


def webhook_json(row: models.WebhookSubscription, secret: bool = False) -> dict[str, Any]:
    """A subscription; the secret only when it was just created."""
    out: dict[str, Any] = {
        "id": row.id,
        "url": row.url,
        "events": row.events.split(","),
        "description": row.description,
        "created_at": row.created_at,
    }
    if secret:
        out["secret"] = row.secret
    return out


@bp.post("/api/v1/webhooks")
@spec.validate(
    json=WebhookIn,
    resp=Doc(HTTP_201=WebhookCreated, **problems(413, 422)),
    tags=["merchants"],
    security=BEARER,
    skip_validation=True,
)
def create_webhook() -> Response:
    """Subscribe a URL to `status_changed`, `eta_revised` and/or `delayed` events of your parcels.

    The answer holds the signing secret (`whsec_…`), shown this once. Each delivery is signed as
    Standard Webhooks specify (standardwebhooks.com): `webhook-id` (the event id, the same on every
    retry), `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256>`, which any Standard
    Webhooks library verifies with the secret; the deprecated `Silkway-Signature` is sent beside them
    until 2027-06-30. The URL must be http(s) on a public address. Failed deliveries are retried with
    exponential backoff for 24 hours.
    """
    principal = merchant()
    assert principal.merchant_id is not None
    body = body_json()
    if not isinstance(body, dict):
        raise Problem(422, "Invalid Webhook", "send a JSON object", errors=[{"error": "not an object"}])
    description = body.get("description")
    try:
        if description is not None and (not isinstance(description, str) or len(description) > 200):
            raise WebhookError("description", "description must be a string of at most 200 characters")
        url = body.get("url")
        if not isinstance(url, str):
            raise WebhookError("url", "url is required (a string)")
        url = check_target_url(
            url, resolve_host, bool(current_app.config.get("ALLOW_PRIVATE_WEBHOOK_TARGETS", False))
        )
        events = check_events(body.get("events"))
    except WebhookError as exc:
        raise Problem(
            422,
            "Invalid Webhook",
            str(exc),
            errors=[{"field": exc.field, "error": str(exc)}],
            slug="invalid-webhook",
        ) from None
    session = get_session()
    merchant_id = principal.merchant_id
    row = commit_unit(session, lambda: create_subscription(session, merchant_id, url, events, description))
    return json_response(webhook_json(row, secret=True), 201)


@bp.get("/api/v1/webhooks")
@spec.validate(
    resp=Doc(HTTP_200=WebhookList, **problems()), tags=["merchants"], security=BEARER, skip_validation=True
)
def list_webhooks() -> Response:
    """Your webhook subscriptions (without their secrets)."""
    principal = merchant()
    assert principal.merchant_id is not None
    rows = subscriptions(get_session(), principal.merchant_id)
    return json_response({"webhooks": [webhook_json(r) for r in rows]})


def own_webhook(subscription_id: int) -> models.WebhookSubscription:
    """The merchant's subscription, or 404 (also for another merchant's)."""
    principal = merchant()
    assert principal.merchant_id is not None
    row = find_subscription(get_session(), principal.merchant_id, subscription_id)
    if row is None:
        raise Problem(404, "Webhook Not Found", f"you have no webhook subscription {subscription_id}")
    return row


@bp.delete(f"/api/v1/webhooks/<{SUBSCRIPTION_ID}:subscription_id>")
@spec.validate(
    resp=Doc(HTTP_204=None, **problems(404)), tags=["merchants"], security=BEARER, skip_validation=True
)
def delete_webhook(subscription_id: int) -> Response:
    """Unsubscribe: nothing more is sent (pending deliveries are cancelled)."""
    now = utcnow()
    commit_unit(get_session(), lambda: delete_subscription(get_session(), own_webhook(subscription_id), now))
    return Response(status=204)


@bp.get(f"/api/v1/webhooks/<{SUBSCRIPTION_ID}:subscription_id>/deliveries")
@spec.validate(
    query=DeliveryQuery,
    resp=Doc(HTTP_200=DeliveryPage, **problems(404, 422)),
    tags=["merchants"],
    security=BEARER,
    skip_validation=True,
)
def list_deliveries(subscription_id: int) -> Response:
    """The delivery log of a subscription: every attempt, newest first, paged with `next_cursor`."""
    row = own_webhook(subscription_id)
    limit = query_limit()
    before = None
    if request.args.get("cursor"):
        values = decode_cursor(request.args["cursor"])
        if len(values) != 1:
            raise invalid_query("cursor", "not a cursor this API gave out")
        before = cursor_id(values[0])
    entries = delivery_log(get_session(), row.id, limit + 1, before)
    page = entries[:limit]
    next_cursor = encode_cursor(page[-1].id) if len(entries) > limit else None
    deliveries = [
        {
            "id": e.id,
            "event_id": e.event_id,
            "event": e.event,
            "parcel_id": e.parcel_id,
            "attempt": e.attempt,
            "attempted_at": e.attempted_at,
            "status_code": e.status_code,
            "error": e.error,
            "duration_ms": e.duration_ms,
            "succeeded": e.succeeded,
            "state": e.message_state,
        }
        for e in page
    ]
    return json_response({"deliveries": deliveries, "next_cursor": next_cursor})


def queued(subscription_id: int, message_id: int, event: str) -> Response:
    """The 202 of an event queued for delivery at once."""
    path = f"/api/v1/webhooks/{subscription_id}/deliveries"
    answer = json_response(
        {"status": "accepted", "event_id": f"evt_{message_id}", "event": event, "deliveries": path}, 202
    )
    answer.headers["Location"] = path
    return answer


@bp.post(f"/api/v1/webhooks/<{SUBSCRIPTION_ID}:subscription_id>/ping")
@spec.validate(
    resp=Doc(HTTP_202=DeliveryQueued, **problems(404)),
    tags=["merchants"],
    security=BEARER,
    skip_validation=True,
)
def ping_webhook(subscription_id: int) -> Response:
    """Send a signed test delivery (event `ping`) to your webhook now, whatever events it takes.

    It goes through the outbox like every event (signed the same way, its attempts in the delivery log;
    the scheduler sends it within seconds, and retries it if your endpoint fails). Answers 202 with its
    `event_id`; another merchant's webhook is a 404.
    """
    session = get_session()
    now = utcnow()
    message_id = commit_unit(session, lambda: enqueue_ping(session, own_webhook(subscription_id), now))
    return queued(subscription_id, message_id, "ping")


@bp.post(
    f"/api/v1/webhooks/<{SUBSCRIPTION_ID}:subscription_id>/deliveries/<int(min=1, max={MAX_ID}):delivery_id>"
    "/redeliver"
)
@spec.validate(
    resp=Doc(HTTP_202=DeliveryQueued, **problems(404, 409)),
    tags=["merchants"],
    security=BEARER,
    skip_validation=True,
)
def redeliver_webhook(subscription_id: int, delivery_id: int) -> Response:
    """Send again the event of a delivery of the log (`id` of `GET .../deliveries`), failed or delivered.

    The same body and `webhook-id` (deduplicate on it), due at once through the outbox; a failed event
    is tried once more. 404 for a delivery that is not this webhook's, 409 while the event is still
    pending.
    """
    session = get_session()
    now = utcnow()

    try:
        message_id, event = commit_unit(
            session, lambda: redeliver(session, own_webhook(subscription_id).id, delivery_id, now)
        )
    except RedeliveryRefused as exc:
        raise Problem(
            exc.status,
            "Delivery Not Found" if exc.status == 404 else "Delivery Pending",
            str(exc),
            slug="delivery-not-found" if exc.status == 404 else "delivery-pending",
        ) from None
    return queued(subscription_id, message_id, event)
