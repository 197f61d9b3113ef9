"""Pulling carrier feeds: the HTTP client side of the carriers that Silkway polls, separate from parsing.

Two kinds of feed (configured per carrier in ``feed_cursors``, see tracking/feeds.py and docs/pull.md):

- ``cursor``: ``GET {base}/events?cursor=X`` answers ``{"events": [canonical events], "next_cursor"}``.
  Each page is one unit of work (web.db.commit_unit): it moves the cursor and stores the page's events
  through ``accept_payload(..., source="pull")``, and commits both at once; a collision with another
  writer redoes both. A crash between fetch and commit re-fetches the page, and the duplicates that
  brings are harmless (ingestion is idempotent).
- ``russian_post``: the batch ticket flow (web/feeds/russian_post.py): numbers are submitted for a
  ticket, whose answer is fetched later and ingested in the unit of work that marks the ticket done.

The HTTP side (rate limits, retries, Retry-After) is web/feeds/client.py; parsing is the carriers'.
A failed poll leaves the cursor where it was and postpones the feed with exponential backoff.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import orjson
from flask import Flask
from sqlalchemy.orm import Session

from tracking import feeds, models
from tracking.events import PayloadError
from tracking.ingest import PlaceResolver
from tracking.types import utcnow
from web.db import commit_unit
from web.feeds.client import FeedClient, FetchFailed, PullSettings, RetryLater
from web.feeds.polling import PollResult
from web.feeds.russian_post import poll_russian_post
from web.ingestion import BatchRejected, Outcome, PayloadUnreadable, accept_payload
from web.places import resolver

__all__ = ["PollResult", "Poller", "feed_client", "poll_feeds", "poll_feeds_job", "register_jobs"]

log = logging.getLogger("silkway.pull")

SessionFactory = Callable[[], Session]
SOAP_HEADERS = {"Content-Type": "text/xml; charset=utf-8"}


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
                    poll_russian_post(self, session, feed_id, result)
            except Exception as exc:  # one broken feed must not stop the others
                log.exception("polling feed %s failed", feed_id)
                session.rollback()
                self.fail(session, feed_id, result, f"{type(exc).__name__}: {exc}")
        log.info("pull %s", result.summary())
        return result

    # -- cursor feeds --------------------------------------------------------------------------

    def _poll_cursor(self, session: Session, feed_id: int, result: PollResult) -> None:
        feed = self.feed(session, feed_id)
        base, cursor, carrier_code = feed.base_url, feed.cursor, feed.carrier.code
        session.rollback()
        for _ in range(int(self.settings.number("PULL_MAX_PAGES"))):
            url = f"{base}/events" + (f"?{urlencode({'cursor': cursor})}" if cursor else "")
            raw = self.fetch(session, feed_id, result, carrier_code, url)
            if raw is None:
                return
            try:
                next_cursor, count = _page(raw)
            except PayloadError as exc:
                self.fail(session, feed_id, result, str(exc))
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
        def page() -> Outcome:
            # One unit: the cursor moves with the page's events, and a retry after a collision redoes both.
            feed = self.feed(session, feed_id)
            if feed.cursor != cursor:
                raise _CursorMoved
            feed.cursor = nxt
            feeds.record_success(feed, self.now, self.now)
            return self.ingest(session, feed.carrier, raw, "application/json")

        try:
            outcome = commit_unit(session, page)
        except _CursorMoved:
            result.notes.append("the cursor moved during the poll; page dropped")
            return False
        except (PayloadUnreadable, BatchRejected) as exc:
            self.fail(session, feed_id, result, f"page at cursor {cursor!r}: {exc}")
            return False
        result.count(outcome)
        return True

    def _cursor_done(
        self, session: Session, feed_id: int, expected: str | None, cursor: str | None, caught_up: bool
    ) -> None:
        def done() -> None:
            feed = self.feed(session, feed_id)
            if feed.cursor == expected:
                feed.cursor = cursor
            wait = self.settings.number("PULL_FEED_INTERVAL_SECONDS") if caught_up else 0.0
            feeds.record_success(feed, self.now, feeds.later(self.now, wait))

        commit_unit(session, done)

    # -- shared --------------------------------------------------------------------------------

    def feed(self, session: Session, feed_id: int) -> models.FeedCursor:
        """The feed row, read afresh from the database."""
        feed = session.get(models.FeedCursor, feed_id, populate_existing=True)
        assert feed is not None
        return feed

    def fetch(
        self,
        session: Session,
        feed_id: int,
        result: PollResult,
        carrier: str,
        url: str,
        body: bytes | None = None,
    ) -> bytes | None:
        """The answer's body, or None after recording a failure or a 429 postponement on the feed."""
        try:
            return self.client.fetch(carrier, url, body, SOAP_HEADERS if body is not None else None)
        except RetryLater as exc:
            error, seconds = str(exc), exc.seconds
            commit_unit(session, lambda: self._postpone(session, feed_id, error, seconds))
            result.state, result.error = "rate_limited", error
        except FetchFailed as exc:
            self.fail(session, feed_id, result, str(exc))
        return None

    def _postpone(self, session: Session, feed_id: int, error: str, seconds: float) -> None:
        feed = self.feed(session, feed_id)
        feed.last_error, feed.last_polled_at = error, self.now
        feed.next_poll_at = feeds.later(self.now, seconds)

    def ingest(self, session: Session, carrier: models.Carrier, raw: bytes, content_type: str) -> Outcome:
        """Store a pulled payload through the one ingestion path; flushes, the caller's unit commits."""
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

    def fail(self, session: Session, feed_id: int, result: PollResult, error: str) -> None:
        """Record a failed poll (cursor untouched) and postpone the feed with backoff, as a unit of work."""

        def record() -> None:
            feed = self.feed(session, feed_id)
            delay = feeds.backoff_seconds(
                feed.failures + 1,
                self.settings.number("PULL_FAILURE_BACKOFF_BASE_SECONDS"),
                self.settings.number("PULL_FAILURE_BACKOFF_CAP_SECONDS"),
            )
            feeds.record_failure(feed, self.now, error, feeds.later(self.now, delay))

        commit_unit(session, record)
        result.state, result.error = "failed", error


class _CursorMoved(Exception):
    """Another poll moved the feed's cursor since this one read it: its page is dropped."""


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


def feed_client(app: Flask) -> FeedClient:
    """The app's feed client, kept for the life of the process so rate-limit buckets persist."""
    client: FeedClient | None = app.extensions.get("silkway.pull")
    if client is None:
        client = app.extensions["silkway.pull"] = FeedClient(PullSettings.from_config(app.config))
    return client


def poll_feeds(app: Flask, now: datetime | None = None) -> list[PollResult]:
    """Poll every feed that is due at ``now``; one unit of work per page or ticket."""
    now = now or utcnow()
    factory: SessionFactory = app.extensions["silkway.db"].session
    with factory() as session:
        due = feeds.due_feed_ids(session, now)
        session.rollback()
    poller = Poller(factory, feed_client(app), PullSettings.from_config(app.config), now, resolver())
    return [poller.poll(feed_id) for feed_id in due]


def poll_feeds_job(app: Flask, now: datetime) -> None:
    """The scheduler job (web/worker/jobs.py: ``carrier_feeds``): poll the feeds that are due."""
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
