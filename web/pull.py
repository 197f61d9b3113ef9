"""Pulling carrier feeds: the HTTP client side of the carriers that Silkway polls, separate from parsing.

Two kinds of feed (configured per carrier in ``feed_cursors``, see tracking/feeds.py and docs/pull.md):

- ``cursor``: ``GET {base}/events?cursor=X`` answers ``{"events": [canonical events], "next_cursor"}``.
  Each page goes through ``accept_payload(..., source="pull")`` and the cursor moves in the same
  transaction that stores the page's events: a crash between fetch and commit re-fetches the page,
  and the duplicates that brings are harmless (ingestion is idempotent).
- ``russian_post``: the batch ticket flow. Numbers of parcels not delivered yet are submitted
  (getTicket); each ticket is fetched no sooner than RUSSIAN_POST_TICKET_DELAY_SECONDS later
  (getResponseByTicket); "not ready" is asked again later; the answer is ingested and the ticket
  marked done in one transaction.

The HTTP side (rate limits, retries, Retry-After) is web/feed_client.py; parsing is the carriers'.
A failed poll leaves the cursor where it was and postpones the feed with exponential backoff.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import orjson
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from carriers import russian_post_ticket as tickets
from carriers.xmlfeed import first, load_xml, text
from tracking import feeds, models
from tracking.events import PayloadError
from tracking.ingest import PlaceResolver
from tracking.types import utcnow
from web.feed_client import FeedClient, FetchFailed, PullSettings, RetryLater
from web.ingestion import Outcome, PayloadUnreadable, accept_payload
from web.places import resolver

log = logging.getLogger("silkway.pull")

SessionFactory = Callable[[], Session]
TICKET_LIFETIME = timedelta(hours=32)
SOAP_HEADERS = {"Content-Type": "text/xml; charset=utf-8"}


@dataclass(slots=True)
class PollResult:
    """What one poll of one feed did."""

    carrier: str
    kind: str
    state: str = "ok"  # ok, failed, rate_limited
    pages: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    tickets_submitted: int = 0
    tickets_fetched: int = 0
    tickets_waiting: int = 0
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    def count(self, outcome: Outcome) -> None:
        """Add an ingestion outcome to the totals."""
        self.accepted += outcome.accepted
        self.duplicates += outcome.duplicates
        self.rejected += len(outcome.rejected)

    def summary(self) -> str:
        """One line for logs and the CLI."""
        line = (
            f"{self.carrier} ({self.kind}): {self.state} pages={self.pages} accepted={self.accepted} "
            f"duplicates={self.duplicates} rejected={self.rejected}"
        )
        if self.kind == "russian_post":
            line += (
                f" tickets_submitted={self.tickets_submitted} tickets_fetched={self.tickets_fetched}"
                f" tickets_waiting={self.tickets_waiting}"
            )
        return line + (f" error={self.error}" if self.error else "")


@dataclass(slots=True)
class Poller:
    """Everything one poll needs: sessions, the HTTP client, settings, the clock and the place resolver."""

    sessions: SessionFactory
    client: FeedClient
    settings: PullSettings
    now: datetime
    resolve: PlaceResolver | None = None

    def poll(self, feed_id: int) -> PollResult:
        """Poll one feed; failures are recorded on the feed, never raised."""
        with self.sessions() as session:
            feed = session.get(models.FeedCursor, feed_id)
            if feed is None:
                return PollResult("?", "?", "failed", error=f"no feed {feed_id}")
            result = PollResult(feed.carrier.code, feed.kind)
            session.rollback()  # no transaction (on SQLite: no write lock) is held over the network
            try:
                if result.kind == "cursor":
                    self._poll_cursor(session, feed_id, result)
                else:
                    self._poll_russian_post(session, feed_id, result)
            except Exception as exc:  # one broken feed must not stop the others
                log.exception("polling feed %s failed", feed_id)
                session.rollback()
                self._fail(session, feed_id, result, f"{type(exc).__name__}: {exc}")
        log.info("pull %s", result.summary())
        return result

    # -- cursor feeds --------------------------------------------------------------------------

    def _poll_cursor(self, session: Session, feed_id: int, result: PollResult) -> None:
        feed = self._feed(session, feed_id)
        base, cursor, carrier_code = feed.base_url, feed.cursor, feed.carrier.code
        session.rollback()
        for _ in range(int(self.settings.number("PULL_MAX_PAGES"))):
            url = f"{base}/events" + (f"?{urlencode({'cursor': cursor})}" if cursor else "")
            raw = self._fetch(session, feed_id, result, carrier_code, url)
            if raw is None:
                return
            try:
                next_cursor, count = _page(raw)
            except PayloadError as exc:
                self._fail(session, feed_id, result, str(exc))
                return
            result.pages += 1
            if count == 0:
                self._cursor_done(session, feed_id, cursor, next_cursor or cursor, caught_up=True)
                return
            if not self._store_page(session, feed_id, result, cursor, next_cursor, raw):
                return
            if next_cursor == cursor:
                break
            cursor = next_cursor
        self._cursor_done(session, feed_id, cursor, cursor, caught_up=False)

    def _store_page(
        self,
        session: Session,
        feed_id: int,
        result: PollResult,
        cursor: str | None,
        nxt: str | None,
        raw: bytes,
    ) -> bool:
        feed = self._feed(session, feed_id)
        if feed.cursor != cursor:
            session.rollback()
            result.notes.append("the cursor moved during the poll; page dropped")
            return False
        # The cursor moves with the events: both are flushed and committed by accept_payload together.
        feed.cursor = nxt
        feeds.record_success(feed, self.now, self.now)
        try:
            outcome = self._ingest(session, feed.carrier, raw, "application/json")
        except PayloadUnreadable as exc:
            session.rollback()
            self._fail(session, feed_id, result, f"page at cursor {cursor!r}: {exc}")
            return False
        if feed.cursor != nxt:
            # accept_payload retried after a conflict, which rolled our change back: the events are
            # committed now, so moving the cursor in a second transaction is safe.
            feed.cursor = nxt
            session.commit()
        result.count(outcome)
        return True

    def _cursor_done(
        self, session: Session, feed_id: int, expected: str | None, cursor: str | None, caught_up: bool
    ) -> None:
        feed = self._feed(session, feed_id)
        if feed.cursor == expected:
            feed.cursor = cursor
        wait = self.settings.number("PULL_FEED_INTERVAL_SECONDS") if caught_up else 0.0
        feeds.record_success(feed, self.now, feeds.later(self.now, wait))
        session.commit()

    # -- Russian Post batch tickets ------------------------------------------------------------

    def _poll_russian_post(self, session: Session, feed_id: int, result: PollResult) -> None:
        login, password = (
            self.settings.values["RUSSIAN_POST_LOGIN"],
            self.settings.values["RUSSIAN_POST_PASSWORD"],
        )
        if not login or not password:
            self._fail(
                session, feed_id, result, "set SILKWAY_RUSSIAN_POST_LOGIN and SILKWAY_RUSSIAN_POST_PASSWORD"
            )
            return
        feeds.expire_stale_tickets(session, feed_id, self.now - TICKET_LIFETIME)
        due = [(t.id, t.ticket) for t in feeds.pending_tickets(session, feed_id) if t.fetch_after <= self.now]
        session.commit()
        for ticket_id, ticket in due:
            if not self._fetch_ticket(session, feed_id, result, ticket_id, ticket, login, password):
                return
        idle = not feeds.pending_tickets(session, feed_id) and self._submission_due(session, feed_id)
        if idle and not self._submit(session, feed_id, result, login, password):
            return
        feed = self._feed(session, feed_id)
        waiting = feeds.pending_tickets(session, feed_id)
        result.tickets_waiting = len(waiting)
        feeds.record_success(feed, self.now, self._next_russian_post_poll(session, feed_id, waiting))
        session.commit()

    def _fetch_ticket(
        self,
        session: Session,
        feed_id: int,
        result: PollResult,
        ticket_id: int,
        ticket: str,
        login: str,
        password: str,
    ) -> bool:
        feed = self._feed(session, feed_id)
        url, code = feed.base_url, feed.carrier.code
        session.rollback()
        raw = self._fetch(
            session, feed_id, result, code, url, tickets.build_answer_request(ticket, login, password)
        )
        if raw is None:
            return False
        row = session.get(models.RussianPostTicket, ticket_id)
        if row is None or row.status != "pending":
            session.rollback()
            return True
        row.attempts += 1
        try:
            check_ticket_answer(raw)
        except tickets.TicketNotReady:
            row.fetch_after = feeds.later(self.now, self.settings.number("RUSSIAN_POST_TICKET_RETRY_SECONDS"))
            row.last_error = "not ready yet"
            session.commit()
            return True
        except tickets.TicketError as exc:
            row.status = "expired" if isinstance(exc, tickets.TicketExpired) else "failed"
            row.last_error = str(exc)[: feeds.MAX_ERROR]
            session.commit()
            return True
        except PayloadError as exc:
            self._ticket_retry(row, f"unreadable answer: {exc}")
            session.commit()
            return True
        row.status, row.fetched_at, row.last_error = "done", self.now, None
        try:
            outcome = self._ingest(session, self._feed(session, feed_id).carrier, raw, "text/xml")
        except PayloadUnreadable as exc:
            session.rollback()
            row = session.get(models.RussianPostTicket, ticket_id)
            assert row is not None
            row.attempts += 1
            self._ticket_retry(row, f"unreadable answer: {exc}")
            session.commit()
            return True
        row = session.get(models.RussianPostTicket, ticket_id)
        assert row is not None
        row.status, row.fetched_at = "done", self.now
        row.raw_payload_id = _latest_payload_id(session, self._feed(session, feed_id).carrier_id, raw)
        session.commit()
        result.count(outcome)
        result.tickets_fetched += 1
        return True

    def _ticket_retry(self, row: models.RussianPostTicket, error: str) -> None:
        row.last_error = error[: feeds.MAX_ERROR]
        if row.attempts >= self.settings.number("RUSSIAN_POST_TICKET_MAX_ATTEMPTS"):
            row.status = "failed"
        else:
            row.fetch_after = feeds.later(self.now, self.settings.number("RUSSIAN_POST_TICKET_RETRY_SECONDS"))

    def _submission_due(self, session: Session, feed_id: int) -> bool:
        last = _last_submission(session, feed_id)
        interval = timedelta(seconds=self.settings.number("RUSSIAN_POST_SUBMIT_INTERVAL_SECONDS"))
        return last is None or last + interval <= self.now

    def _submit(self, session: Session, feed_id: int, result: PollResult, login: str, password: str) -> bool:
        feed = self._feed(session, feed_id)
        url, carrier = feed.base_url, feed.carrier
        since = self.now - timedelta(days=self.settings.number("RUSSIAN_POST_NUMBER_MAX_AGE_DAYS"))
        numbers = feeds.russian_post_numbers(session, carrier, since)
        code = carrier.code
        session.rollback()
        for start in range(0, len(numbers), tickets.MAX_NUMBERS):
            batch = numbers[start : start + tickets.MAX_NUMBERS]
            body = tickets.build_ticket_request(batch, login, password)
            raw = self._fetch(session, feed_id, result, code, url, body)
            if raw is None:
                return False
            try:
                ticket = tickets.parse_ticket_id(raw)
            except PayloadError as exc:
                self._fail(session, feed_id, result, f"getTicket: {exc}")
                return False
            delay = self.settings.number("RUSSIAN_POST_TICKET_DELAY_SECONDS")
            feeds.add_ticket(
                session,
                self._feed(session, feed_id),
                ticket,
                len(batch),
                self.now,
                feeds.later(self.now, delay),
            )
            session.commit()
            result.tickets_submitted += 1
        if not numbers:
            result.notes.append("no parcels to ask Russian Post about")
        return True

    def _next_russian_post_poll(
        self, session: Session, feed_id: int, waiting: list[models.RussianPostTicket]
    ) -> datetime:
        if waiting:
            return min(t.fetch_after for t in waiting)
        last = _last_submission(session, feed_id) or self.now
        return last + timedelta(seconds=self.settings.number("RUSSIAN_POST_SUBMIT_INTERVAL_SECONDS"))

    # -- shared --------------------------------------------------------------------------------

    def _feed(self, session: Session, feed_id: int) -> models.FeedCursor:
        feed = session.get(models.FeedCursor, feed_id, populate_existing=True)
        assert feed is not None
        return feed

    def _fetch(
        self,
        session: Session,
        feed_id: int,
        result: PollResult,
        carrier: str,
        url: str,
        body: bytes | None = None,
    ) -> bytes | None:
        try:
            return self.client.fetch(carrier, url, body, SOAP_HEADERS if body is not None else None)
        except RetryLater as exc:
            feed = self._feed(session, feed_id)
            feed.last_error, feed.last_polled_at = str(exc), self.now
            feed.next_poll_at = feeds.later(self.now, exc.seconds)
            session.commit()
            result.state, result.error = "rate_limited", str(exc)
        except FetchFailed as exc:
            self._fail(session, feed_id, result, str(exc))
        return None

    def _ingest(self, session: Session, carrier: models.Carrier, raw: bytes, content_type: str) -> Outcome:
        return accept_payload(
            session,
            carrier,
            raw,
            content_type,
            source="pull",
            partial=True,
            resolve=self.resolve,
            max_events=int(self.settings.number("MAX_BATCH_EVENTS")),
        )

    def _fail(self, session: Session, feed_id: int, result: PollResult, error: str) -> None:
        feed = self._feed(session, feed_id)
        delay = feeds.backoff_seconds(
            feed.failures + 1,
            self.settings.number("PULL_FAILURE_BACKOFF_BASE_SECONDS"),
            self.settings.number("PULL_FAILURE_BACKOFF_CAP_SECONDS"),
        )
        feeds.record_failure(feed, self.now, error, feeds.later(self.now, delay))
        session.commit()
        result.state, result.error = "failed", error


def _page(raw: bytes) -> tuple[str | None, int]:
    """The next cursor and the number of events of a cursor feed page (PayloadError if it is not one)."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise PayloadError(f"the feed page is not JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("events"), list):
        raise PayloadError('the feed page must be an object with an "events" array')
    nxt = doc.get("next_cursor")
    if nxt is not None and (not isinstance(nxt, str) or len(nxt) > 500):
        raise PayloadError("next_cursor must be a string of at most 500 characters")
    if doc["events"] and not nxt:
        raise PayloadError("the feed page has events but no next_cursor")
    return nxt, len(doc["events"])


def check_ticket_answer(raw: bytes) -> None:
    """Raise the TicketError of a ticket-level answer (not ready, expired); PayloadError if unreadable."""
    root = load_xml(raw)
    answer = first(root, "answerByTicketResponse")
    if answer is None:
        fault = first(root, "Fault")
        reason = text(fault, "faultstring") if fault is not None else None
        raise PayloadError(f"SOAP fault: {reason}" if reason else "expected an answerByTicketResponse")
    tickets.raise_for_ticket_error(answer)


def _last_submission(session: Session, feed_id: int) -> datetime | None:
    query = (
        select(models.RussianPostTicket.requested_at)
        .where(models.RussianPostTicket.feed_id == feed_id)
        .order_by(models.RussianPostTicket.requested_at.desc())
        .limit(1)
    )
    return session.scalar(query)


def _latest_payload_id(session: Session, carrier_id: int, raw: bytes) -> int | None:
    query = (
        select(models.RawPayload.id)
        .where(
            models.RawPayload.carrier_id == carrier_id,
            models.RawPayload.sha256 == hashlib.sha256(raw).hexdigest(),
        )
        .order_by(models.RawPayload.id.desc())
        .limit(1)
    )
    return session.scalar(query)


def feed_client(app: Flask) -> FeedClient:
    """The app's feed client, kept for the life of the process so rate-limit buckets persist."""
    client: FeedClient | None = app.extensions.get("silkway.pull")
    if client is None:
        client = app.extensions["silkway.pull"] = FeedClient(PullSettings.from_config(app.config))
    return client


def poll_feeds(app: Flask, now: datetime | None = None) -> list[PollResult]:
    """Poll every feed that is due at ``now``; one transaction per page or ticket."""
    now = now or utcnow()
    factory: SessionFactory = app.extensions["silkway.db"].session
    with factory() as session:
        due = feeds.due_feed_ids(session, now)
        session.rollback()
    poller = Poller(factory, feed_client(app), PullSettings.from_config(app.config), now, resolver())
    return [poller.poll(feed_id) for feed_id in due]


def poll_feeds_job(app: Flask, now: datetime) -> None:
    """The scheduler job (web/jobs.py: ``carrier_feeds``): poll the feeds that are due."""
    poll_feeds(app, now)


def register_jobs(scheduler: Any, app: Flask) -> None:
    """Add the pull job to an APScheduler scheduler, every JOB_CARRIER_FEEDS_SECONDS (default 30)."""

    def tick() -> None:
        with app.app_context():
            poll_feeds(app)

    scheduler.add_job(
        tick,
        "interval",
        seconds=int(app.config.get("JOB_CARRIER_FEEDS_SECONDS", 30)),
        id="carrier_feeds",
        max_instances=1,
        coalesce=True,
        replace_existing=True,
    )
