"""Connectors: numbers registered with the tracking services that will report on them (the outbox).

Pure over a Session; every function only flushes, the caller's unit of work commits. A merchant's
registration queues each parcel's number with the connector its rules pick (``route``), in the same
unit as the parcel, so registering never waits for a service. The scheduler's job (web/connectors/)
then claims what is due (``due``), calls the service outside any transaction, and records each answer
(``record``). When a parcel arrives or expires its registrations owe a stop call (``queue_stops``); a
carrier corrected by hand owes a change of carrier (``correct_carrier``).

States: ``queued`` (not registered yet), ``registered``, ``rejected`` (the service refused the number;
its code and message are kept and shown to the merchant and the operators), ``stopped``. ``pending``
is the call still owed: ``register``, ``changecarrier``, ``stop``, or ``poll`` (a service Silkway queries
on a schedule rather than one that pushes).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session

from tracking import models
from tracking.numbers import recognize
from tracking.types import utcnow

STATES = ("queued", "registered", "rejected", "stopped")
CALLS = ("register", "changecarrier", "stop", "poll")
FINISHED = ("delivered", "expired")
CONFIDENT = 0.7  # a reading at least this sure (and passing its checks) is sent as the carrier


@dataclass(frozen=True, slots=True)
class Rule:
    """A configured connector: its name and the Silkway carriers it reports on (None: any carrier)."""

    connector: str
    carriers: frozenset[str] | None = None

    def takes(self, carrier: str | None) -> bool:
        """True when the connector reports on numbers of ``carrier`` (an unknown one: aggregators only)."""
        return self.carriers is None or (carrier is not None and carrier in self.carriers)


@dataclass(frozen=True, slots=True)
class Route:
    """Where a number goes: the connector, and the carrier to name (None: let the service detect it)."""

    connector: str
    carrier: str | None


@dataclass(frozen=True, slots=True)
class Answer:
    """A service's answer about one number: ``outcome`` is ``registered``, ``rejected``, ``stopped`` or
    ``retry`` (try again after ``retry_after`` seconds); ``code`` and ``message`` are the service's."""

    number: str
    outcome: str
    remote_carrier: str | None = None
    code: str | None = None
    message: str | None = None
    retry_after: float | None = None
    then: str | None = None  # a call owed next (a polled service: ``poll``), ``retry_after`` from now
    payload: bytes | None = None  # what a polled service answered, to store as the carrier's payload


def carrier_of(number: str) -> str | None:
    """The carrier a number's shape names with confidence, or None when detection is better left to the
    service (no reading, a failed check digit, or only a guess)."""
    recognition = recognize(number)
    best = next((c for c in recognition.candidates if c.passes_checks), None)
    return best.carrier if best is not None and best.confidence >= CONFIDENT else None


def readings(number: str) -> list[str]:
    """Every carrier a reading of the number that passes its checks names, best first."""
    found: list[str] = []
    for candidate in recognize(number).candidates:
        if candidate.passes_checks and candidate.carrier not in found:
            found.append(candidate.carrier)
    return found


def route(number: str, rules: Sequence[Rule], carrier: str | None = None) -> Route | None:
    """The first configured connector that reports on the number (``rules`` in order of preference: a
    carrier's own connector before an aggregator), or None when none does. A carrier's own connector takes
    a number any passing reading gives to that carrier (ten digits: CDEK's); an aggregator is told the
    carrier only when the number names it with confidence (``carrier_of``), else detects it."""
    possible = [carrier] if carrier else readings(number)
    for rule in rules:
        if rule.carriers is None:
            return Route(rule.connector, carrier or carrier_of(number))
        hit = next((c for c in possible if c in rule.carriers), None)
        if hit is not None:
            return Route(rule.connector, hit)
    return None


def queue_parcels(
    session: Session,
    numbers_by_parcel: Mapping[int, Sequence[str]],
    rules: Sequence[Rule],
    now: datetime,
    carrier: str | None = None,
) -> int:
    """Queue one number per parcel (its first routable one) with its connector, once: a number already
    queued or registered with that connector is left alone. ``carrier`` overrides what the numbers'
    shapes say (a correction by hand). Returns how many were queued; flushes."""
    if not rules:
        return 0
    wanted: dict[tuple[str, str], tuple[int, Route]] = {}
    for parcel_id, numbers in numbers_by_parcel.items():
        for number in numbers:
            found = route(number, rules, carrier)
            if found is not None:
                wanted.setdefault((number, found.connector), (parcel_id, found))
                break
    if not wanted:
        return 0
    r = models.ConnectorRegistration.__table__.c
    known: set[tuple[str, str]] = set()
    listed = sorted({number for number, _ in wanted})
    for start in range(0, len(listed), 1000):
        query = select(r.number, r.connector).where(r.number.in_(listed[start : start + 1000]))
        known.update((number, connector) for number, connector in session.execute(query))
    rows = [
        {
            "number": number,
            "parcel_id": parcel_id,
            "connector": connector,
            "carrier_code": found.carrier,
            "state": "queued",
            "pending": "register",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for (number, connector), (parcel_id, found) in wanted.items()
        if (number, connector) not in known
    ]
    if rows:
        session.execute(insert(models.ConnectorRegistration), rows)
    return len(rows)


def due(
    session: Session, connector: str, call: str, now: datetime, limit: int
) -> list[models.ConnectorRegistration]:
    """The registrations owing ``call`` to ``connector`` whose time has come, oldest first."""
    r = models.ConnectorRegistration
    query = (
        select(r)
        .where(r.connector == connector, r.pending == call, r.next_attempt_at <= now)
        .order_by(r.next_attempt_at, r.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def record(
    session: Session, connector: str, call: str, answers: Iterable[Answer], now: datetime
) -> dict[str, int]:
    """Write the service's answers to one call (each number's row afresh); counts per outcome; flushes."""
    counts: dict[str, int] = {}
    by_number = {a.number: a for a in answers}
    if not by_number:
        return counts
    r = models.ConnectorRegistration
    rows = session.scalars(select(r).where(r.connector == connector, r.number.in_(sorted(by_number))))
    for row in rows:
        answer = by_number[row.number]
        if row.pending != call:  # the row moved on (a correction, a stop) while the call was made
            continue
        _apply(row, answer, now)
        counts[answer.outcome] = counts.get(answer.outcome, 0) + 1
    session.flush()
    return counts


def _apply(row: models.ConnectorRegistration, answer: Answer, now: datetime) -> None:
    row.attempts += 1
    row.updated_at = now
    row.last_answer = (answer.message or answer.outcome)[:500]
    if answer.outcome == "retry":
        row.error_code = answer.code
        row.next_attempt_at = now + timedelta(seconds=answer.retry_after or 60.0)
        return
    row.error_code = answer.code
    row.remote_carrier = answer.remote_carrier or row.remote_carrier
    row.pending, row.next_attempt_at = None, None
    if answer.outcome == "registered":
        row.state = "registered"
        row.registered_at = row.registered_at or now
        if answer.then is not None:
            row.pending, row.next_attempt_at = answer.then, now + timedelta(seconds=answer.retry_after or 0.0)
    elif answer.outcome == "stopped":
        row.state, row.stopped_at = "stopped", now
    else:
        row.state = "rejected"


def postpone(session: Session, ids: Sequence[int], now: datetime, seconds: float, error: str) -> None:
    """A call that failed as a whole (the service unreachable, 429, a refused key): try again later."""
    r = models.ConnectorRegistration
    session.execute(
        update(r)
        .where(r.id.in_(list(ids)))
        .values(
            attempts=r.attempts + 1,
            next_attempt_at=now + timedelta(seconds=seconds),
            last_answer=error[:500],
            updated_at=now,
        )
    )
    session.flush()


def requeue_rejected(session: Session, connector: str, codes: Sequence[str], now: datetime) -> int:
    """Queue again the numbers rejected with one of ``codes`` (a spent quota, once it is topped up)."""
    r = models.ConnectorRegistration
    result = session.execute(
        update(r)
        .where(r.connector == connector, r.state == "rejected", r.error_code.in_(list(codes)))
        .values(state="queued", pending="register", next_attempt_at=now, updated_at=now)
    )
    session.flush()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def has_rejected(session: Session, connector: str, codes: Sequence[str]) -> bool:
    """True when some of the connector's numbers are rejected with one of ``codes``."""
    r = models.ConnectorRegistration
    query = select(r.id).where(r.connector == connector, r.state == "rejected", r.error_code.in_(list(codes)))
    return session.scalars(query.limit(1)).first() is not None


def queue_stops(session: Session, connector: str, now: datetime, limit: int = 1000) -> int:
    """Registered numbers of parcels that were delivered or expired now owe the service a stop call."""
    r = models.ConnectorRegistration
    query = (
        select(r.id)
        .join(models.Identifier, models.Identifier.number == r.number)
        .join(models.Parcel, models.Parcel.id == models.Identifier.parcel_id)
        .where(
            r.connector == connector,
            r.state == "registered",
            or_(r.pending.is_(None), r.pending == "poll"),
            models.Parcel.status.in_(FINISHED),
        )
        .limit(limit)
    )
    ids = list(session.scalars(query))
    if ids:
        session.execute(
            update(r).where(r.id.in_(ids)).values(pending="stop", next_attempt_at=now, updated_at=now)
        )
        session.flush()
    return len(ids)


def correct_carrier(
    session: Session, numbers: Sequence[str], carrier: str, now: datetime | None = None
) -> int:
    """A carrier set by hand for a parcel's numbers: each registration owes the service a change of
    carrier (registered) or a new registration with it (queued, rejected). Returns how many; flushes."""
    now = now or utcnow()
    r = models.ConnectorRegistration
    changed = 0
    for row in session.scalars(select(r).where(r.number.in_(list(numbers)))):
        if row.state == "stopped" or (row.carrier_code == carrier and row.state != "rejected"):
            continue
        row.carrier_code = carrier
        if row.state == "registered":
            row.pending = "changecarrier"
        else:
            row.state, row.pending, row.error_code = "queued", "register", None
        row.next_attempt_at, row.updated_at = now, now
        changed += 1
    session.flush()
    return changed


def correct_parcel(
    session: Session,
    parcel_id: int,
    numbers: Sequence[str],
    carrier: str,
    rules: Sequence[Rule],
    now: datetime,
) -> int:
    """A merchant's correction of a parcel's carrier: the registrations made are told (``correct_carrier``)
    and a number not registered yet with the connector the carrier now routes to is queued with it."""
    changed = correct_carrier(session, numbers, carrier, now)
    return changed + queue_parcels(session, {parcel_id: numbers}, rules, now, carrier)


def for_numbers(session: Session, numbers: Sequence[str]) -> list[models.ConnectorRegistration]:
    """The registrations of these numbers (a parcel's identifiers), in the order they were made."""
    if not numbers:
        return []
    r = models.ConnectorRegistration
    return list(session.scalars(select(r).where(r.number.in_(list(numbers))).order_by(r.id)))


def state_counts(session: Session) -> dict[str, dict[str, int]]:
    """Per connector: how many numbers are in each state, and how many owe each call (``owes_<call>``)."""
    r = models.ConnectorRegistration
    found: dict[str, dict[str, int]] = {}
    by_state = select(r.connector, r.state, func.count()).group_by(r.connector, r.state)
    for connector, state, count in session.execute(by_state):
        found.setdefault(connector, {})[state] = count
    owed = select(r.connector, r.pending, func.count()).where(r.pending.is_not(None))
    for connector, call, count in session.execute(owed.group_by(r.connector, r.pending)):
        found.setdefault(connector, {})[f"owes_{call}"] = count
    return found


@dataclass(frozen=True, slots=True)
class Rejection:
    """A number a service refused, for the operators' list."""

    number: str
    connector: str
    carrier_code: str | None
    error_code: str | None
    message: str | None
    parcel_id: int | None
    merchant: str | None
    attempts: int
    updated_at: datetime


def rejections(
    session: Session, connector: str | None = None, limit: int = 100, before: int | None = None
) -> list[tuple[int, Rejection]]:
    """Rejected numbers, newest first (with their row id, the paging key)."""
    r, p, m = models.ConnectorRegistration, models.Parcel, models.Merchant
    query = (
        select(r.id, r.number, r.connector, r.carrier_code, r.error_code, r.last_answer, r.parcel_id)
        .add_columns(m.name, r.attempts, r.updated_at)
        .select_from(r)
        .outerjoin(p, p.id == r.parcel_id)
        .outerjoin(m, m.id == p.merchant_id)
        .where(r.state == "rejected")
        .order_by(r.id.desc())
        .limit(limit)
    )
    if connector is not None:
        query = query.where(r.connector == connector)
    if before is not None:
        query = query.where(r.id < before)
    found = []
    for row in session.execute(query):
        row_id, *fields = row
        found.append((row_id, Rejection(*fields)))
    return found
