"""The public API: anyone who knows a tracking number may read the parcel's public view."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response
from spectree import Response as Doc

from routing.eta import EtaAnswer
from tracking.numbers import recognize
from tracking.queries import PublicParcel
from web.access import public_limits as limits
from web.api.schemas import ParcelOut, ProblemBody, TrackingNumberOut
from web.db import lookup_view
from web.errors import Problem, json_response
from web.eta.lookup import parcel_eta
from web.openapi import spec
from web.replicas import reading

bp = Blueprint("public_api", __name__)
log = logging.getLogger("silkway.eta")


def parcel_json(view: PublicParcel, eta: EtaAnswer | None) -> dict[str, Any]:
    """The public JSON of a parcel (docs/contract.md): no merchant, reference or personal data."""
    return {
        "tracking_number": view.tracking_number,
        "identifiers": view.identifiers,
        "status": view.status,
        "substatus": view.substatus,
        "status_at": view.status_at,
        "last_event_at": view.last_event_at,
        "service": view.service,
        "events": [
            {
                "status": e.status,
                "substatus": e.substatus,
                "occurred_at": e.occurred_at,
                "location": None
                if e.location_name is None and e.country is None
                else {"name": e.location_name, "country": e.country, "lat": e.lat, "lon": e.lon},
                "description": e.description,
                "carrier": e.carrier,
            }
            for e in view.events
        ],
        "eta": eta.to_json() if eta is not None else None,
    }


def candidates_json(candidates: list[Any]) -> list[dict[str, Any]]:
    """Ranked carrier candidates of a tracking number."""
    return [
        {"carrier": c.carrier, "format": c.format, "confidence": round(c.confidence, 3), "detail": c.detail}
        for c in candidates
    ]


def not_found(number: str) -> Problem:
    """A 404 that helps: what the number looks like and which carriers it may belong to."""
    found = recognize(number)
    return Problem(
        404,
        "Parcel Not Found",
        f"no parcel with the tracking number {found.number or number!r} has been seen yet",
        extra={
            "tracking_number": found.number,
            "valid": found.valid,
            "candidates": candidates_json(found.candidates),
            "problems": found.problems,
        },
        slug="parcel-not-found",
    )


@bp.get("/api/v1/parcels/<tracking_number>")
@spec.validate(resp=Doc(HTTP_200=ParcelOut, HTTP_404=ProblemBody), tags=["public"], skip_validation=True)
def get_parcel(tracking_number: str) -> Response:
    """The public view of a parcel, by any of its tracking numbers, newest event first."""
    (view,) = limits.looked_up([tracking_number], lookup_view)  # an unknown number costs one miss
    if view is None:
        raise not_found(tracking_number)
    # The session is only opened if the ETA engine is due to look for a newer model (once a minute).
    return json_response(parcel_json(view, reading(lambda session: parcel_eta(session, view))))


@bp.get("/api/v1/tracking-numbers/<path:number>")
@spec.validate(resp=Doc(HTTP_200=TrackingNumberOut), tags=["public"], skip_validation=True)
def get_tracking_number(number: str) -> Response:
    """Whether a tracking number is valid, and the carriers and formats it may belong to, ranked."""
    found = recognize(number)
    return json_response(
        {
            "number": found.number,
            "valid": found.valid,
            "candidates": candidates_json(found.candidates),
            "problems": found.problems,
        }
    )
