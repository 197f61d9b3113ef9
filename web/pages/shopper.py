"""The shoppers' pages: search, one parcel, several parcels at once, and help for unknown numbers.

Pages work without JavaScript and show nothing personal: only what the public API shows.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from routing.eta import EtaAnswer
from tracking.numbers import format_examples, normalize, recognize
from tracking.queries import PublicParcel
from web.access import public_limits as limits
from web.db import lookup_view
from web.pages.customs import waiting_for_payment
from web.pages.i18n import LANGUAGES, current_language
from web.pages.journey import page_threshold
from web.pages.map_svg import basemap_svg
from web.pages.parcel_view import eta_for, parcel_page, summary
from web.replicas import reading

log = logging.getLogger("silkway.web.pages")

bp = Blueprint("pages", __name__)

# The several-numbers page takes at most MAX_NUMBERS distinct numbers (after normalising and dropping
# repeats) in a query of at most MAX_QUERY characters; beyond either a 400 page names both caps.
MAX_NUMBERS = 10
MAX_QUERY = 1000
_SEPARATORS = re.compile(r"[,;\n\r]+")


def well_formed(number: str) -> bool:
    """True when ``number`` could be a stored tracking number: 5 to 40 Latin letters and digits."""
    return 5 <= len(number) <= 40 and number.isascii() and number.isalnum()


def split_numbers(raw: str) -> list[str]:
    """The numbers in a search box: one per line or separated by commas; spaces inside a number are kept
    together unless every space-separated part is long enough to be a number of its own."""
    numbers: list[str] = []
    for chunk in _SEPARATORS.split(raw):
        parts = chunk.split()
        pieces = parts if len(parts) > 1 and all(len(p) >= 8 for p in parts) else [chunk]
        for piece in pieces:
            number = normalize(piece)
            if number and number not in numbers:
                numbers.append(number)
    return numbers


def _language_args() -> dict[str, Any]:
    lang = request.args.get("lang")
    return {"lang": lang} if lang in LANGUAGES else {}


@bp.app_context_processor
def _page_helpers() -> dict[str, Any]:
    def lang_url(code: str) -> str:
        args: dict[str, Any] = {**request.args.to_dict(), "lang": code}
        if request.endpoint and request.endpoint.startswith("pages."):
            return url_for(request.endpoint, **(request.view_args or {}), **args)
        return url_for("pages.index", lang=code)

    return {"lang_url": lang_url, "max_numbers": MAX_NUMBERS}


@bp.after_request
def _vary(response: Response) -> Response:
    response.vary.update(("Accept-Language", "Cookie"))
    return response


@bp.get("/")
def index() -> str:
    """The home page: a search box and what tracking numbers look like."""
    return render_template("index.html", examples=format_examples())


@bp.get("/track")
def track_many() -> Any:
    """Several numbers at once (``?numbers=A,B``); a single number goes to its own page."""
    raw = request.args.get("numbers", "")
    numbers = split_numbers(raw[: MAX_QUERY + 1])
    error = None
    if not numbers:
        error = _("Enter a tracking number.")
    elif len(raw) > MAX_QUERY:
        error = _(
            "Enter at most %(count)d numbers at once, in at most %(length)d characters.",
            count=MAX_NUMBERS,
            length=MAX_QUERY,
        )
    elif len(numbers) > MAX_NUMBERS:
        error = _("Enter at most %(count)d numbers at once.", count=MAX_NUMBERS)
    if error:
        query = raw[:MAX_QUERY]
        return render_template("index.html", examples=format_examples(), error=error, query=query), 400
    if len(numbers) == 1:
        return redirect(url_for(".track", tracking_number=numbers[0], **_language_args()))
    # Every number may be unknown: the misses budget must hold all of them before any is looked up.
    views = limits.looked_up(numbers, _lookup)
    rows = [
        {"number": number, "view": view, "summary": summary(view, current_language()) if view else None}
        for number, view in zip(numbers, views, strict=True)
    ]
    return render_template("track_many.html", rows=rows, query=raw)


def _lookup(number: str) -> PublicParcel | None:
    """The public view of a number, or None when it is unknown or not even well formed (no query then)."""
    return lookup_view(number) if well_formed(number) else None


@bp.get("/track/<path:tracking_number>")
def track(tracking_number: str) -> Any:
    """One parcel: status, expected delivery, map, history and all of its numbers."""
    number = normalize(tracking_number)
    if number != tracking_number and well_formed(number):
        return redirect(url_for(".track", tracking_number=number, **_language_args()))
    (view,) = limits.looked_up([number], _lookup)  # an unknown or malformed number costs one miss
    if view is None:
        return _unknown(tracking_number, number, 404 if well_formed(number) else 400)
    language = current_language()
    page = reading(lambda db: parcel_page(view, _eta(db, view), language, threshold=page_threshold(db)))
    return render_template("track.html", view=view, page=page)


@bp.get("/map/basemap.svg")
def basemap() -> Response:
    """The land under the route maps (static; cached by browsers for a day)."""
    response = Response(basemap_svg(), mimetype="image/svg+xml")
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response


def _eta(session: Any, view: PublicParcel) -> EtaAnswer | None:
    if view.status in ("delivered", "expired") or waiting_for_payment(view):
        return None  # finished, or its delivery date waits for the shopper's payment
    return eta_for(session, view)


def _unknown(typed: str, number: str, status: int) -> tuple[str, int]:
    found = recognize(number or typed)
    return (
        render_template(
            "not_found.html",
            typed=typed[:80],
            query=typed[:MAX_QUERY],  # the search box keeps what was typed
            number=found.number[:80],
            found=found,
            malformed=status == 400,
            examples=format_examples(),
        ),
        status,
    )


@bp.errorhandler(Exception)
def _page_error(exc: Exception) -> Any:
    if isinstance(exc, HTTPException):
        if exc.code == 429:
            return limits.too_many_requests(exc)
        return render_template("errors/error.html", code=exc.code, description=exc.name), exc.code or 500
    if isinstance(exc, OperationalError | InterfaceError | DisconnectionError):
        log.warning("database unavailable on %s: %s", request.path, type(exc).__name__)
        return render_template("errors/error.html", code=503), 503, {"Retry-After": "5"}
    log.exception("unhandled error on %s", request.path)
    return render_template("errors/error.html", code=500), 500
