"""The pages' ETA provider: the lookups' ETA (web.eta.lookup.parcel_eta), or a stand-in from app config.

Config ``ETA_PROVIDER`` replaces it (tests and screenshots use a fixed ETA); a stand-in may answer an
EtaAnswer or, simpler, a mapping with the keys of the API's ``eta`` answer, read here once so that the
pages only ever see an EtaAnswer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from routing.eta import WINDOW_CONFIDENCE, EtaAnswer, EtaEstimate
from tracking.queries import PublicParcel
from web.eta.lookup import parcel_eta

EtaProvider = Callable[[Session, PublicParcel], EtaAnswer | Mapping[str, Any] | None]


def eta_provider() -> EtaProvider:
    """The app's ETA provider: config ETA_PROVIDER, else web.eta.lookup.parcel_eta."""
    provider: EtaProvider = current_app.config.get("ETA_PROVIDER") or parcel_eta
    return provider


def provided_eta(found: EtaAnswer | Mapping[str, Any] | None) -> EtaAnswer | None:
    """A provider's answer as an EtaAnswer; a stand-in's mapping needs p10 and p90 (aware datetimes or ISO
    8601) and may give p50 (else p10), route, confidence (else 0.8) and model.learned_from (else 1: it
    stands for a learned model). None without a p10-p90 window."""
    if found is None or isinstance(found, EtaAnswer):
        return found
    p10, p90 = _moment(found.get("p10")), _moment(found.get("p90"))
    if p10 is None or p90 is None:
        return None
    share = found.get("confidence")
    confidence = float(share) if isinstance(share, int | float) and 0 < share <= 1 else WINDOW_CONFIDENCE
    route = [str(node) for node in found.get("route") or []]
    model = found.get("model")
    learned = model.get("learned_from") if isinstance(model, Mapping) else None
    learned_from = learned if isinstance(learned, int) and not isinstance(learned, bool) else 1
    estimate = EtaEstimate(p10, _moment(found.get("p50")) or p10, p90, route, "unknown", "", learned_from)
    return EtaAnswer(estimate, datetime.now(UTC), confidence)


def _moment(value: object) -> datetime | None:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return value if isinstance(value, datetime) else None
