"""How a parcel's connector registrations read in the merchants' and operators' answers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from tracking import models
from tracking.connectors import for_numbers


class ConnectorError(BaseModel):
    """What the service answered when it refused the number (its own code and words)."""

    code: str | None = Field(description="the service's error code, e.g. 17TRACK's -18019908 (quota spent)")
    message: str | None


class ConnectorState(BaseModel):
    """A number registered with a tracking service that reports on it (docs/connectors.md)."""

    connector: str = Field(description="the service, e.g. track17")
    number: str
    carrier: str | None = Field(description="Silkway's carrier code sent with the number (null: detected)")
    state: Literal["queued", "registered", "rejected", "stopped"]
    error: ConnectorError | None = Field(description="the service's refusal, when it refused")
    registered_at: datetime | None
    stopped_at: datetime | None
    updated_at: datetime


def state_json(row: models.ConnectorRegistration) -> dict[str, Any]:
    """One registration as the merchant sees it."""
    error = None
    if row.error_code is not None:
        error = {"code": row.error_code, "message": row.last_answer}
    return {
        "connector": row.connector,
        "number": row.number,
        "carrier": row.carrier_code,
        "state": row.state,
        "error": error,
        "registered_at": row.registered_at,
        "stopped_at": row.stopped_at,
        "updated_at": row.updated_at,
    }


def states_by_number(session: Session, numbers: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """The registrations of these numbers, by number."""
    found: dict[str, list[dict[str, Any]]] = {}
    listed = sorted(set(numbers))
    for start in range(0, len(listed), 1000):
        for row in for_numbers(session, listed[start : start + 1000]):
            found.setdefault(row.number, []).append(state_json(row))
    return found


def parcel_states(found: dict[str, list[dict[str, Any]]], numbers: Sequence[str]) -> list[dict[str, Any]]:
    """A parcel's registrations, from ``states_by_number`` and the parcel's numbers."""
    return [state for number in numbers for state in found.get(number, [])]
