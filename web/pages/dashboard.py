"""The merchant dashboard: sign in with a merchant key; parcels by status, the delayed ones, and a chart
of when the parcels in flight are expected to arrive.

The sign-in is kept in Flask's signed session cookie (the key's id, never the key itself) and checked
against the key on every request, so revoking the key signs the dashboard out. Every form carries a
per-session CSRF token.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracking import models
from tracking.accounts import authenticate
from tracking.merchant_parcels import delayed_parcels, parcels_in_flight, status_counts
from tracking.queries import public_parcel
from tracking.statuses import Status
from tracking.types import utcnow
from web.db import get_session
from web.pages.eta_provider import EtaProvider, eta_provider, provided_eta
from web.replicas import reading

bp = Blueprint("dashboard", __name__)
log = logging.getLogger("silkway.dashboard")
SESSION_KEY = "merchant_dashboard"
IN_FLIGHT_PARCELS = 1000
LIVE_ETAS = 20
CHART_DAYS = 30


def csrf_token() -> str:
    """The session's CSRF token, created on first use."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


def check_csrf() -> None:
    """Refuse a form post whose token does not match the session's."""
    sent = request.form.get("csrf_token", "")
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(str(sent), str(expected)):
        abort(400, description="the form has expired or did not come from this site; reload it and try again")


def signed_in(db: Session) -> models.ApiKey | None:
    """The live merchant key the session was signed in with, if any."""
    state = session.get(SESSION_KEY)
    if not isinstance(state, dict):
        return None
    key = db.get(models.ApiKey, state.get("key_id"))
    if key is None or key.merchant_id is None or key.merchant_id != state.get("merchant_id"):
        return None
    if key.revoked_at is not None and key.revoked_at <= utcnow():
        return None
    return key


def page(template: str, status: int = 200, **context: Any) -> Response:
    """A dashboard page, never cached."""
    response = Response(render_template(template, csrf_token=csrf_token(), **context), status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/dashboard/login")
def login_form() -> Response:
    """The sign-in form."""
    if signed_in(get_session()) is not None:
        return redirect(url_for("dashboard.overview"))  # type: ignore[return-value]
    return page("dashboard_login.html")


@bp.post("/dashboard/login")
def login() -> Response:
    """Sign in with a merchant API key."""
    check_csrf()
    db = get_session()
    principal = authenticate(db, request.form.get("key", "").strip())
    if principal is None or principal.role != "merchant" or principal.merchant_id is None:
        return page("dashboard_login.html", 401, error="That is not a valid merchant key.")
    session.clear()  # a fresh session (and CSRF token) on sign-in: no session fixation
    session[SESSION_KEY] = {"key_id": principal.key_id, "merchant_id": principal.merchant_id}
    return redirect(url_for("dashboard.overview"), 303)  # type: ignore[return-value]


@bp.post("/dashboard/logout")
def logout() -> Response:
    """Sign out."""
    check_csrf()
    session.clear()
    return redirect(url_for("dashboard.login_form"), 303)  # type: ignore[return-value]


@bp.get("/dashboard")
def overview() -> Response:
    """Parcels by status, the delayed ones, and when the parcels in flight are expected."""
    db = get_session()
    key = signed_in(db)
    if key is None:
        session.pop(SESSION_KEY, None)
        return redirect(url_for("dashboard.login_form"))  # type: ignore[return-value]
    assert key.merchant_id is not None and key.merchant is not None
    merchant_id, name = key.merchant_id, key.merchant.name
    counts, chart, delayed = reading(  # the lists from a replica when one is healthy (web/replicas.py)
        lambda lists: (
            status_counts(lists, merchant_id),
            in_flight_chart(lists, merchant_id, utcnow()),
            delayed_parcels(lists, merchant_id),
        )
    )
    ordered = [(s.value, counts.get(s.value, 0)) for s in Status if counts.get(s.value)]
    return page(
        "dashboard.html",
        merchant=name,
        counts=ordered,
        total=sum(counts.values()),
        delayed=delayed,
        chart=chart,
    )


@dataclass(slots=True)
class Chart:
    """A histogram of days, ready to draw as SVG."""

    title: str
    axis: str
    bars: list[dict[str, Any]]
    parcels: int
    width: int
    height: int
    in_flight: int = 0


def in_flight_chart(db: Session, merchant_id: int, now: datetime) -> Chart:
    """Expected days to delivery (ETA p50) of the parcels in flight; days in transit where no ETA exists."""
    parcels = parcels_in_flight(db, merchant_id, IN_FLIGHT_PARCELS)
    expected = expected_deliveries(db, parcels)
    if expected:
        days = [max((p50 - now).total_seconds() / 86400, 0.0) for p50 in expected.values()]
        title = "Expected delivery of parcels in flight (median ETA)"
        axis = "days from today"
    else:
        days = [max((now - (p.first_event_at or p.created_at)).total_seconds() / 86400, 0.0) for p in parcels]
        title = "Parcels in flight: days in transit so far (no delivery estimates available yet)"
        axis = "days since the first scan (or registration)"
    chart = histogram(title, axis, days)
    chart.in_flight = len(parcels)
    return chart


def expected_deliveries(db: Session, parcels: list[models.Parcel]) -> dict[int, datetime]:
    """Median ETAs by parcel: the latest published revision, else (for a few) one computed now."""
    found: dict[int, datetime] = {}
    revision = getattr(models, "EtaRevision", None)  # published by the scheduler's ETA job
    ids = [p.id for p in parcels]
    if revision is not None and ids:
        for start in range(0, len(ids), 500):
            rows = db.execute(
                select(revision.parcel_id, revision.p50)
                .where(revision.parcel_id.in_(ids[start : start + 500]))
                .order_by(revision.parcel_id, revision.computed_at)
            ).all()
            found.update(dict(rows))
    service = _eta_service()
    if service is None:
        return found
    missing = [p for p in parcels if p.id not in found][:LIVE_ETAS]
    for parcel in missing:
        p50 = _eta(db, service, parcel)
        if p50 is not None:
            found[parcel.id] = p50
    return found


def histogram(title: str, axis: str, days: list[float]) -> Chart:
    """Bars of one day each up to CHART_DAYS, the last one holding everything beyond."""
    counts = [0] * (CHART_DAYS + 1)
    for value in days:
        counts[min(int(value), CHART_DAYS)] += 1
    tallest = max(counts) or 1
    bar_width, plot_height, left, top = 18, 160, 40, 10
    bars = []
    for index, count in enumerate(counts):
        height = round(plot_height * count / tallest)
        label = f"{CHART_DAYS}+" if index == CHART_DAYS else str(index)
        bars.append(
            {
                "x": left + index * bar_width,
                "y": top + plot_height - height,
                "width": bar_width - 2,
                "height": height,
                "count": count,
                "label": label,
                "tick": index % 5 == 0 or index == CHART_DAYS,
            }
        )
    return Chart(title, axis, bars, len(days), left + len(counts) * bar_width + 10, top + plot_height + 50)


def _eta_service() -> EtaProvider | None:
    """The app's ETA provider: config ETA_PROVIDER, else web.eta.lookup.parcel_eta."""
    return eta_provider()


def _eta(db: Session, service: EtaProvider, parcel: models.Parcel) -> datetime | None:
    """The parcel's median ETA from the ETA provider, or None."""
    if not parcel.identifiers:
        return None
    view = public_parcel(db, parcel.identifiers[0].number)
    if view is None:
        return None
    try:
        eta = provided_eta(service(db, view))
    except Exception:  # the chart is a bonus: the dashboard must render regardless
        log.exception("ETA failed for parcel %s", parcel.id)
        return None
    p50 = eta.estimate.p50 if eta is not None else None
    return p50 if p50 is not None and p50.tzinfo is not None else None
