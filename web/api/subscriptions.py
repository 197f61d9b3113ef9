"""Shoppers' mail subscriptions: anyone who knows a tracking number may ask to be told of its news.

The answer is the same 202 whether or not the address was already subscribed, and never repeats it; a
confirmation mail with a link comes first, and nothing else is sent until it is followed
(tracking/subscriptions.py). Rate limited per client and per address (web/access/subscribe_limits.py),
and an unknown number costs one unit of the misses budget like every lookup.
"""

from __future__ import annotations

from flask import Blueprint, Response
from spectree import Response as Doc

from tracking.queries import find_parcel_id
from tracking.subscriptions import SubscriptionError, check_subscriber, subscribe
from web.access import public_limits as limits
from web.access.subscribe_limits import charge_subscription
from web.api.merchants import body_json
from web.api.public import not_found
from web.api.schemas import ProblemBody
from web.api.subscription_schemas import SubscriptionAccepted, SubscriptionIn
from web.db import commit_unit, get_session
from web.errors import Problem, json_response
from web.openapi import spec

bp = Blueprint("subscriptions_api", __name__)
ACCEPTED = {
    "status": "accepted",
    "detail": "if the address can receive mail, a link to confirm the subscription is on its way; "
    "nothing else is sent before it is followed",
}


def invalid(field: str, error: str) -> Problem:
    """The 422 naming the field at fault (never its value)."""
    return Problem(
        422,
        "Invalid Subscription",
        error,
        errors=[{"field": field, "error": error}],
        slug="invalid-subscription",
    )


@bp.post("/api/v1/parcels/<tracking_number>/subscriptions")
@spec.validate(
    json=SubscriptionIn,
    resp=Doc(HTTP_202=SubscriptionAccepted, HTTP_404=ProblemBody, HTTP_422=ProblemBody),
    tags=["public"],
    skip_validation=True,
)
def subscribe_to_parcel(tracking_number: str) -> Response:
    """Ask for e-mail news of a parcel: a confirmation mail first, then a mail when it arrives in Russia,
    is held at customs, goes out for delivery, is ready to collect, is delivered, is delayed or goes back.

    Answers 202 whether or not the address was already subscribed; 422 names `email` or `language`;
    404 for an unknown number. Every mail has a one-click unsubscribe link (RFC 8058).
    """
    body = body_json()
    if not isinstance(body, dict):
        raise invalid("body", "send a JSON object with email and language")
    try:
        subscriber = check_subscriber(body.get("email"), body.get("language"))
    except SubscriptionError as exc:
        raise invalid(exc.field, str(exc)) from None
    charge_subscription(subscriber.email)
    session = get_session()
    (parcel_id,) = limits.looked_up([tracking_number], lambda number: find_parcel_id(session, number))
    if parcel_id is None:
        raise not_found(tracking_number)
    commit_unit(session, lambda: subscribe(session, parcel_id, subscriber))
    return json_response(ACCEPTED, 202)
