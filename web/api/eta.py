"""Delivery-time APIs: a parcel's ETA, merchants' pre-shipment quotes and the services offered."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from flask import Blueprint, Response, request
from spectree import Response as Doc

from routing.errors import NoEstimate, NoRoute, RoutingError, UnknownPlace, UnknownService
from routing.eta import EtaEngine
from routing.quotes import QuoteAsk
from routing.services import load_services
from tracking.plausibility import AS_OF, SHIP_AT, Window, to_utc
from web.access import public_limits as limits
from web.access.auth import require
from web.api.public import not_found
from web.api.schemas import EtaOut, EtaQuery, ProblemBody, QuoteAnswer, QuoteBody, QuoteQuery, ServicesOut
from web.db import get_session
from web.errors import Problem, check_no_nul, json_response
from web.eta.engine import current_engine
from web.eta.lookup import parcel_eta_by_number
from web.openapi import BEARER, spec
from web.replicas import reading

bp = Blueprint("eta_api", __name__)
MAX_QUOTES = 1000
NOT_A_TIME = "expected an ISO 8601 time with an offset"


def _instant(value: Any, field: str, window: Window, now: datetime, index: int | None = None) -> datetime:
    """An ISO 8601 time with an offset inside ``window`` (tracking.plausibility), in UTC; else a 422."""
    where = {"index": index} if index is not None else {}
    if not isinstance(value, str):
        raise Problem(
            422,
            "Invalid Field",
            f"{field} must be an ISO 8601 time with an offset",
            errors=[{**where, "field": field, "error": NOT_A_TIME}],
        )
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise Problem(
            422,
            "Invalid Field",
            f"{field} {value!r} is not an ISO 8601 time with an offset",
            errors=[{**where, "field": field, "error": NOT_A_TIME}],
        )
    problem = window.check(moment, now, field)
    instant = to_utc(moment)
    if problem is not None or instant is None:
        error = problem or f"{field} {window.rule}"
        prefix = f"item {index}: " if index is not None else ""
        raise Problem(
            422, "Invalid Field", prefix + error, errors=[{**where, "field": field, "error": error}]
        )
    return instant


@bp.get("/api/v1/parcels/<tracking_number>/eta")
@spec.validate(
    resp=Doc(HTTP_200=EtaOut, HTTP_404=ProblemBody, HTTP_422=ProblemBody),
    query=EtaQuery,
    tags=["public"],
    skip_validation=True,
)
def get_parcel_eta(tracking_number: str) -> Response:
    """The parcel's arrival-time distribution (p10/p50/p90) as of now or `as_of`.

    Arrival is delivery, or readiness for collection at a pickup point or post office, whichever comes
    first; once the parcel has arrived, p10 = p50 = p90 = that moment. Parcels under way are answered
    from the hours to arrival learned per milestone (their latest kind of scan) when the model has them.
    `as_of` (ISO 8601 with an offset) ignores every event after that instant, so the answer is the one
    Silkway would have given then (backtests, audits); it must be from 2010-01-01T00:00:00Z to one year
    after now, else a 422 naming `as_of`. The answer names the route ahead, the service (inferred from
    the scans when the parcel was never registered, with the candidates weighed) and the model version
    with the number of observations it learned from. An unknown number is a 404; a NUL character in the
    number or a parameter is a 400 naming it.
    """
    raw = request.args.get("as_of")
    now = datetime.now(UTC)
    as_of = _instant(raw, "as_of", AS_OF, now) if raw is not None else now
    limits.check_misses(1)  # a number not found costs one unit of the misses budget, as on /parcels/{n}
    answer = reading(lambda session: parcel_eta_by_number(session, tracking_number, as_of))
    if answer is None:
        limits.charge_misses(1)
        raise not_found(tracking_number)
    return json_response(answer.to_json())


def _parse_quote(item: Any, index: int, now: datetime) -> QuoteAsk:
    if not isinstance(item, dict):
        raise _item_problem(index, "", "each quote request must be an object")
    values = []
    for field in ("origin", "destination", "service"):
        value = item.get(field)
        if not isinstance(value, str) or not value.strip():
            raise _item_problem(
                index,
                field,
                f"{field} is required (a city name or place id)"
                if field != "service"
                else "service is required (see GET /api/v1/services)",
            )
        values.append(value.strip())
    ship_at = now
    if item.get("ship_at") is not None:
        ship_at = _instant(item["ship_at"], "ship_at", SHIP_AT, now, index)
    return QuoteAsk(values[0], values[1], values[2], ship_at)


def _item_problem(index: int, field: str, message: str) -> Problem:
    return Problem(
        422,
        "Invalid Quote Request",
        f"item {index}: {message}",
        errors=[{"index": index, "field": field or None, "error": message}],
        slug="invalid-quote",
    )


def _routing_error(exc: RoutingError) -> tuple[str, str]:
    """The field at fault and the message of a quote the routing package could not answer."""
    if isinstance(exc, UnknownPlace | UnknownService | NoRoute):
        return exc.field, str(exc)
    return "", str(exc)


def _partial() -> bool:
    """The ``partial`` query parameter: true or false (1 or 0), once; else a 422 naming it."""
    values = request.args.getlist("partial")
    if not values:
        return False
    if len(values) > 1 or values[0].lower() not in {"true", "false", "1", "0"}:
        message = "partial must be given once, true or false"
        raise Problem(
            422,
            "Invalid Query",
            message,
            errors=[{"field": "partial", "error": message}],
            slug="invalid-query",
        )
    return values[0].lower() in {"true", "1"}


ORIGIN_ROLES = {"origin_hub", "last_mile_city"}  # the places a parcel may be handed over at


def _alternatives(engine: EtaEngine, ask: QuoteAsk) -> dict[str, list[str]]:
    """For a lane without a route: the services that go from the origin to the destination, and the
    origins the asked service goes from to the destination (network place ids)."""
    codes = sorted(load_services().services)
    by_service = [QuoteAsk(ask.origin, ask.destination, code, ask.ship_at) for code in codes]
    network = engine.network
    places = sorted(
        p.id for p in network.places.values() if p.role in ORIGIN_ROLES and network.is_active(p.id)
    )
    by_origin = [QuoteAsk(place, ask.destination, ask.service, ask.ship_at) for place in places]
    errors = engine.quote_errors(by_service + by_origin)
    return {
        "services": [c for c, e in zip(codes, errors[: len(codes)], strict=True) if e is None],
        "origins": [p for p, e in zip(places, errors[len(codes) :], strict=True) if e is None],
    }


def _no_route_item(engine: EtaEngine, index: int, ask: QuoteAsk, exc: NoRoute) -> dict[str, Any]:
    """The error item of a lane the service does not serve, naming the services and origins that do."""
    found = _alternatives(engine, ask)
    hints = []
    if found["services"]:
        hints.append(f"services from {exc.origin} to {exc.destination}: {', '.join(found['services'])}")
    if found["origins"]:
        hints.append(f"{exc.service} goes to {exc.destination} from {', '.join(found['origins'])}")
    hint = "; ".join(hints) if hints else "no service reaches this destination"
    return {"index": index, "field": exc.field, "error": f"{exc} ({hint})", **found}


def _batch_problem(errors: list[dict[str, Any]], total: int) -> Problem:
    first = errors[0]
    more = f" (and {len(errors) - 1} more; see errors)" if len(errors) > 1 else ""
    return Problem(
        422,
        "Invalid Quote Request",
        f"item {first['index']}: {first['error']}{more}",
        errors=errors,
        extra={"invalid": len(errors), "requested": total},
        slug="invalid-quote",
    )


@bp.post("/api/v1/eta/quotes")
@spec.validate(
    json=QuoteBody,
    query=QuoteQuery,
    resp=Doc(
        HTTP_200=QuoteAnswer,
        HTTP_400=ProblemBody,
        HTTP_401=ProblemBody,
        HTTP_403=ProblemBody,
        HTTP_413=ProblemBody,
        HTTP_422=ProblemBody,
    ),
    tags=["merchants"],
    security=BEARER,
    skip_validation=True,
)
def post_quotes() -> Response:
    """Pre-shipment arrival-time quotes: one request object, or a list of up to 1,000.

    Each request names `origin` and `destination` (a city name in English or Russian, or a network place
    id), a `service` code from `GET /api/v1/services` and `ship_at` (default: now, the same instant for
    every request of the call; else from 2010-01-01T00:00:00Z to one year after now). Each answer gives
    p10/p50/p90 and the route, in the order asked (one request: the answer alone; a list or `quotes`:
    `{"quotes": [...]}`); a quote answers the same in a batch as alone. An unknown city or service, a
    service that cannot reach the destination or a `ship_at` out of range is a 422 whose `errors` name
    every failing item (`index`) and its `field`; nothing is answered for the batch then. A lane the
    service has no route for names, in its error, the `services` that go from that origin to that
    destination and the `origins` the service goes there from. With `?partial=true` the good items are
    answered anyway: 200 `{"quotes": [...], "rejected": [...]}`, each quote with its `index`, each
    rejected item (an unknown place or service, no route, a `ship_at` out of range) as in the 422's
    `errors`; a malformed item (not an object, a field missing or blank, a `ship_at` that is not a time)
    still makes the batch a 422. An empty list is a 422, more than 1,000 requests a 413; an
    empty or unreadable body, or a NUL character in any text, a 400.
    """
    require("merchant")
    raw = request.get_data()
    if not raw:
        raise Problem(400, "Empty Body", "the request body is empty; send a quote request as JSON")
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise Problem(400, "Unreadable Payload", f"body is not valid JSON: {exc}") from None
    check_no_nul(doc, "quotes")
    single = isinstance(doc, dict) and "quotes" not in doc
    items = [doc] if single else (doc.get("quotes") if isinstance(doc, dict) else doc)
    if not isinstance(items, list) or not items:
        message = "send one quote request object, or a non-empty list of them"
        raise Problem(
            422,
            "Invalid Quote Request",
            message,
            errors=[{"field": "quotes", "error": message}],
            slug="invalid-quote",
        )
    if len(items) > MAX_QUOTES:
        message = f"{len(items)} quote requests; at most {MAX_QUOTES} per call"
        raise Problem(413, "Too Many Quotes", message, errors=[{"field": "quotes", "error": message}])
    now = datetime.now(UTC)
    asks: dict[int, QuoteAsk] = {}
    errors: list[dict[str, Any]] = []
    # An item the document's schema refuses (not an object, a field missing, blank or not a time: the
    # problems of _item_problem, slug invalid-quote, and NOT_A_TIME) fails the batch even with
    # ?partial=true; a time outside its window, an unknown place or service and a lane without a route
    # are rules the schema cannot state, which ?partial=true lists under rejected.
    malformed = False
    for index, item in enumerate(items):
        try:
            asks[index] = _parse_quote(item, index, now)
        except Problem as problem:
            errors += problem.errors
            malformed = malformed or problem.slug == "invalid-quote"
            malformed = malformed or any(e.get("error") == NOT_A_TIME for e in problem.errors)
    engine = current_engine(get_session())
    # Every failing item is named before any quote runs: a refused batch costs no Monte Carlo.
    for index, error in zip(asks, engine.quote_errors(list(asks.values())), strict=True):
        if isinstance(error, NoRoute) and not isinstance(error, NoEstimate):
            errors.append(_no_route_item(engine, index, asks[index], error))
        elif error is not None:
            field, message = _routing_error(error)
            errors.append({"index": index, "field": field or None, "error": message})
    errors.sort(key=lambda error: int(error["index"]))
    partial = _partial()
    if errors and (malformed or not partial):
        raise _batch_problem(errors, len(items))
    failed = {int(error["index"]) for error in errors}
    good = {index: ask for index, ask in asks.items() if index not in failed}
    bodies = []
    for (index, ask), answer in zip(good.items(), engine.quote_many(list(good.values())), strict=True):
        if isinstance(answer, RoutingError):  # quote_errors found none
            raise answer
        body = answer.to_dict()
        body.update(origin=ask.origin, destination=ask.destination, ship_at=ask.ship_at.isoformat())
        bodies.append({"index": index, **body} if partial else body)
    if partial:
        return json_response({"quotes": bodies, "rejected": errors})
    return json_response(bodies[0] if single else {"quotes": bodies})


@bp.get("/api/v1/services")
@spec.validate(resp=Doc(HTTP_200=ServicesOut), tags=["public"], skip_validation=True)
def get_services() -> Response:
    """The shipping services, their modes and their routes (waypoints per destination region)."""
    catalog = load_services()
    language = request.args.get("lang", "en")
    services = []
    for code, service in sorted(catalog.services.items()):
        services.append(
            {
                "code": code,
                "name": service.name(language),
                "names": dict(service.names),
                "mode": service.mode,
                "modes": sorted(service.modes),
                "origin_country": service.origin_country,
                "destination_country": service.destination_country,
                "legs": {
                    region: [list(layer) for layer in layers] for region, layers in service.routes.items()
                },
                "sources": list(service.sources),
            }
        )
    return json_response({"services": services})
