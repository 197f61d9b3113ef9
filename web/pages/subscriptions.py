"""The subscription pages: the form on a parcel's page (``_subscribe.html``), the confirmation link and
the unsubscribe link of every mail (one click: a POST to it unsubscribes, RFC 8058; a GET asks first, so
a mail scanner following links unsubscribes no one). No page ever shows the address."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.exceptions import TooManyRequests

from tracking import subscriptions as subs
from tracking.queries import find_parcel_id
from web.access import public_limits as limits
from web.access.subscribe_limits import charge_subscription
from web.db import commit_unit, get_session
from web.mail.texts import N_, mail_text
from web.pages.i18n import current_language

bp = Blueprint("subscription_pages", __name__)
GONE = N_("You are unsubscribed")
NO_MORE = N_("No more mails about this parcel will be sent.")


@bp.app_context_processor
def _texts() -> dict[str, Any]:
    return {"page_text": lambda message, **values: mail_text(current_language(), message, **values)}


@bp.after_request
def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.vary.update(("Accept-Language", "Cookie"))
    return response


def _back(number: str, said: str) -> Response:
    """Back to the parcel's page, which says how it went (303: the browser GETs it)."""
    target = url_for("pages.track", tracking_number=number, subscribe=said, _anchor="subscribe")
    return redirect(target, 303)  # type: ignore[return-value]


@bp.post("/track/<tracking_number>/subscribe")
def subscribe(tracking_number: str) -> Response:
    """The form's POST: subscribe, then back to the page with a message."""
    try:
        subscriber = subs.check_subscriber(
            request.form.get("email"), request.form.get("language") or current_language()
        )
    except subs.SubscriptionError:
        return _back(tracking_number, "invalid")
    try:
        charge_subscription(subscriber.email)
    except TooManyRequests:
        return _back(tracking_number, "limited")
    session = get_session()
    (parcel_id,) = limits.looked_up([tracking_number], lambda number: find_parcel_id(session, number))
    if parcel_id is not None:
        commit_unit(session, lambda: subs.subscribe(session, parcel_id, subscriber))
    return _back(tracking_number, "sent")


def _page(
    heading: str, message: str, token: str = "", ask: bool = False, parcel_id: int | None = None
) -> str:
    """The one page of every link: a heading, a sentence, the unsubscribe button when asked."""
    language = current_language()
    return render_template(
        "subscription.html",
        heading=mail_text(language, heading),
        message=mail_text(language, message),
        token=token,
        ask_unsubscribe=ask,
        number=None if parcel_id is None else subs.parcel_number(get_session(), parcel_id),
    )


@bp.get("/subscriptions/<token>/confirm")
def confirm_link(token: str) -> tuple[str, int]:
    """The confirmation link: the subscription starts; a page says so."""
    session = get_session()
    row = commit_unit(session, lambda: subs.confirm(session, token))
    if row is None:
        return _page(N_("This link is not valid"), N_("It may have been used to unsubscribe already.")), 404
    return _page(
        N_("Subscription confirmed"),
        N_("We will write when something important happens to the parcel."),
        parcel_id=row.parcel_id,
    ), 200


@bp.get("/subscriptions/<token>/unsubscribe")
def unsubscribe_page(token: str) -> tuple[str, int]:
    """The unsubscribe link opened in a browser: one button to unsubscribe."""
    if subs.by_token(get_session(), token) is None:
        return _page(GONE, NO_MORE), 200
    return _page(N_("Unsubscribe?"), NO_MORE, token=token, ask=True), 200


@bp.post("/subscriptions/<token>/unsubscribe")
def unsubscribe_link(token: str) -> tuple[str, int]:
    """One-click unsubscribe (RFC 8058: the mail client POSTs ``List-Unsubscribe=One-Click``) and the
    page's button; again is harmless."""
    session = get_session()
    commit_unit(session, lambda: subs.unsubscribe(session, token))
    return _page(GONE, NO_MORE), 200
