"""The connectors' job: drain the outbox of numbers owed to each service, within its limits.

Each tick (the scheduler's job ``connectors``, web/worker/jobs.py) and each configured connector:

1. numbers of parcels delivered or expired since the last tick owe a stop call (``queue_stops``);
2. calls are made in batches of the service's size (17TRACK: 40), stops first, then carrier changes,
   then registrations, through the shared HTTP client whose token bucket holds the service's rate;
   each batch is read in one short transaction, sent with none open, and its answers recorded in a
   unit of work of their own (web.db.commit_unit);
3. a 429 postpones the batch by its ``Retry-After`` and pauses the connector as long; a call refused
   as a whole (a bad key) or failing after the client's retries postpones the batch with exponential
   backoff; an answer "quota spent" stops registering until the quota (``getquota``, read at most every
   ``QUOTA_CHECK_SECONDS``) is positive again, when the numbers rejected for it are queued again.

The tick ends after CONNECTORS_BUDGET_SECONDS; what is left waits for the next one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from flask import Flask
from sqlalchemy.orm import Session

from tracking import connectors
from tracking.accounts import ensure_carrier
from tracking.connectors import Answer
from tracking.feeds import backoff_seconds
from tracking.types import utcnow
from web.connectors.aftership import AfterShip
from web.connectors.cainiao import Cainiao
from web.connectors.cdek import Cdek
from web.connectors.settings import ConnectorConfig, configured, setting
from web.connectors.track17 import ConnectorFailed, Item, Track17
from web.db import Database, commit_unit
from web.feeds.client import FeedClient, FetchFailed, PullSettings, RetryLater
from web.ingestion import PayloadUnreadable, accept_payload

log = logging.getLogger("silkway.connectors")

CALL_ORDER = ("stop", "changecarrier", "register", "poll")
QUOTA_CHECK_SECONDS = 600.0
FAILURE_BACKOFF = (60.0, 3600.0)


class Service(Protocol):
    """A connector's client: its name, batch size, the calls it makes and its quota."""

    name: str
    batch: int
    quota_codes: tuple[str, ...]
    payload_carrier: str | None  # a polled service: its answers are this carrier's payloads

    def call(self, call: str, items: list[Item]) -> list[Answer]:
        """One call for at most ``batch`` items; raises RetryLater, FetchFailed or ConnectorFailed."""
        ...

    def quota(self) -> int | None:
        """The registrations the account has left (None: the service has no quota call)."""
        ...


@dataclass
class Connector:
    """A service and what this process knows of it: when it may be called again, its quota."""

    service: Service
    paused_until: float = 0.0
    quota_left: int | None = None
    quota_checked: float = float("-inf")


@dataclass
class DrainResult:
    """What one tick did for one connector."""

    connector: str
    calls: int = 0
    stops_queued: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for logs and the CLI."""
        counts = " ".join(f"{k}={v}" for k, v in sorted(self.outcomes.items()))
        errors = f" error={self.errors[-1]}" if self.errors else ""
        return (
            f"{self.connector}: calls={self.calls} stops_queued={self.stops_queued} {counts}{errors}".strip()
        )


def build(
    config: ConnectorConfig,
    pull: PullSettings,
    poll_seconds: float = 4 * 3600.0,
    extra: Mapping[str, Any] | None = None,
) -> Service:
    """The client of a configured connector, with its own token bucket (rate, burst 1: evenly spaced)."""
    limits = dict(pull.values.get("PULL_RATE_LIMITS") or {})
    limits[config.name] = [config.rate_per_second, 1]
    client = FeedClient(PullSettings({**pull.values, "PULL_RATE_LIMITS": limits}))
    if config.name == "track17":
        return Track17(config, client)
    if config.name == "aftership":
        return AfterShip(config, client)
    if config.name == "cainiao":
        return Cainiao(config, client, float(poll_seconds))
    if config.name == "cdek":
        cdek = extra or {}
        return Cdek(
            config,
            client,
            str(cdek.get("CDEK_CLIENT_SECRET") or ""),
            cdek.get("CDEK_WEBHOOK_URL"),
            float(cdek.get("CDEK_POLL_SECONDS") or poll_seconds),
        )
    raise ValueError(f"no client for connector {config.name!r}")


def runtime(app: Flask) -> list[Connector]:
    """The app's connectors, kept for the life of the process (buckets, pauses and quota persist)."""
    found: list[Connector] | None = app.extensions.get("silkway.connectors")
    if found is None:
        pull = PullSettings.from_config(app.config)
        poll = float(setting(app.config, "CAINIAO_POLL_SECONDS"))
        cdek = {
            key: setting(app.config, key)
            for key in ("CDEK_CLIENT_SECRET", "CDEK_WEBHOOK_URL", "CDEK_POLL_SECONDS")
        }
        found = [Connector(build(c, pull, poll, cdek)) for c in configured(app.config)]
        app.extensions["silkway.connectors"] = found
    return found


def connectors_job(app: Flask, now: datetime) -> list[DrainResult]:
    """The scheduler job: drain every configured connector for up to CONNECTORS_BUDGET_SECONDS."""
    db: Database = app.extensions["silkway.db"]
    deadline = time.monotonic() + float(setting(app.config, "CONNECTORS_BUDGET_SECONDS"))
    results = []
    with db.session() as session:
        for connector in runtime(app):
            result = drain(session, connector, now, deadline)
            log.info("connectors %s", result.summary())
            results.append(result)
    return results


def drain(
    session: Session,
    connector: Connector,
    now: datetime,
    deadline: float,
    clock: Callable[[], float] = time.monotonic,
) -> DrainResult:
    """One tick of one connector (see the module's docstring); failures are recorded, never raised."""
    name = connector.service.name
    result = DrainResult(name)
    result.stops_queued = commit_unit(session, lambda: connectors.queue_stops(session, name, now))
    for call in CALL_ORDER:
        if call == "register" and not _may_register(session, connector, now, result):
            continue
        while clock() < deadline and clock() >= connector.paused_until:
            if not _one_batch(session, connector, call, result, clock):
                break
    return result


def _one_batch(
    session: Session, connector: Connector, call: str, result: DrainResult, clock: Callable[[], float]
) -> bool:
    """Send one batch of ``call``; False when there was nothing to send or the connector must wait."""
    service = connector.service
    now = utcnow()
    rows = connectors.due(session, service.name, call, now, service.batch)
    items = [Item(r.number, r.carrier_code, r.remote_carrier) for r in rows]
    ids, attempts = [r.id for r in rows], max((r.attempts for r in rows), default=0)
    session.rollback()  # nothing is held open over the network
    if not items:
        return False
    result.calls += 1
    try:
        answers = service.call(call, items)
    except RetryLater as exc:
        _postpone(session, ids, exc.seconds, str(exc), result)
        connector.paused_until = clock() + exc.seconds
        return False
    except (FetchFailed, ConnectorFailed) as exc:
        _postpone(session, ids, backoff_seconds(attempts + 1, *FAILURE_BACKOFF), str(exc), result)
        return False
    counts = commit_unit(session, lambda: _record(session, service, call, answers))
    for outcome, count in counts.items():
        result.outcomes[outcome] = result.outcomes.get(outcome, 0) + count
    if call == "register":
        accepted = counts.get("registered", 0)
        if connector.quota_left is not None:
            connector.quota_left = max(0, connector.quota_left - accepted)
        if any(a.code in service.quota_codes for a in answers):
            connector.quota_left = 0  # the service says it is spent: wait for the next quota check
            return False
    return True


def _record(session: Session, service: Service, call: str, answers: list[Answer]) -> dict[str, int]:
    """Write the answers, and store a polled service's answers as its carrier's payloads, in one unit."""
    counts = connectors.record(session, service.name, call, answers, utcnow())
    if service.payload_carrier is None:
        return counts
    carrier = ensure_carrier(session, service.payload_carrier, service.payload_carrier)
    for answer in answers:
        if answer.payload is None:
            continue
        try:
            accept_payload(session, carrier, answer.payload, "application/json", source="pull", partial=True)
        except PayloadUnreadable as exc:  # raised before anything is written: the poll still counts
            log.warning("%s answer for %s not stored: %s", service.name, answer.number, exc)
    return counts


def _postpone(session: Session, ids: list[int], seconds: float, error: str, result: DrainResult) -> None:
    commit_unit(session, lambda: connectors.postpone(session, ids, utcnow(), seconds, error))
    result.errors.append(error)


def _may_register(session: Session, connector: Connector, now: datetime, result: DrainResult) -> bool:
    """Read the quota when it is unknown, spent or stale (at most every QUOTA_CHECK_SECONDS) and there is
    something to register; requeue what a spent quota refused once it is positive again."""
    service = connector.service
    spent = connector.quota_left is not None and connector.quota_left <= 0
    stale = time.monotonic() - connector.quota_checked >= QUOTA_CHECK_SECONDS
    if not (connector.quota_left is None or (spent and stale)):
        return not spent
    waiting = bool(connectors.due(session, service.name, "register", now, 1)) or connectors.has_rejected(
        session, service.name, service.quota_codes
    )
    session.rollback()
    if not waiting:
        return False
    try:
        left = service.quota()
    except RetryLater as exc:
        connector.paused_until = time.monotonic() + exc.seconds
        result.errors.append(str(exc))
        return False
    except (FetchFailed, ConnectorFailed) as exc:
        result.errors.append(str(exc))
        return connector.quota_left is None  # unknown: the registrations' own answers will tell
    finally:
        connector.quota_checked = time.monotonic()
    if left is None:  # no quota call: the registrations' own answers tell
        return True
    result.calls += 1
    connector.quota_left = left
    if left > 0:
        commit_unit(
            session, lambda: connectors.requeue_rejected(session, service.name, service.quota_codes, now)
        )
        return True
    return False
