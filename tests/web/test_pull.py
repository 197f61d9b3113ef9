"""Pulling feeds over real HTTP on loopback from the fake feed server: cursors, failures, Russian Post."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from itertools import pairwise
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import bearer
from tests.support.fake_feeds import (
    RUSSIAN_POST_PATH,
    FakeFeeds,
    start_fake_feed_server,
    stop_fake_feed_server,
)
from tracking import models
from tracking.types import utcnow
from web.cli import cli
from web.feeds.pull import PollResult, poll_feeds

NUMBER = "RX747628194CN"
PULL_CONFIG = {
    "PULL_TIMEOUT_SECONDS": 0.5,
    "PULL_RETRIES": 2,
    "PULL_BACKOFF_BASE_SECONDS": 0.01,
    "PULL_BACKOFF_CAP_SECONDS": 0.02,
    "PULL_RATE_PER_SECOND": 1000.0,
    "PULL_RATE_BURST": 1000,
    "RUSSIAN_POST_LOGIN": "silkway",
    "RUSSIAN_POST_PASSWORD": "not-a-real-password",
}


def scan(hour: int, number: str = NUMBER) -> dict[str, Any]:
    return {
        "tracking_number": number,
        "status": "in_transit",
        "substatus": "departed",
        "occurred_at": f"2026-10-20T{hour:02d}:15:00+08:00",
        "location": {"name": "Shenzhen", "country": "CN"},
        "raw_code": "SC_OUTBOUND_SUCCESS",
    }


@pytest.fixture
def fake() -> Iterator[tuple[FakeFeeds, str]]:
    server, base_url = start_fake_feed_server(feeds=FakeFeeds(sleep_seconds=1.5, retry_after=120))
    yield server.feeds, base_url
    stop_fake_feed_server(server)


@pytest.fixture
def pull_app(app: Flask) -> Flask:
    app.config.update(PULL_CONFIG)
    return app


@pytest.fixture
def silkway(pull_app: Flask) -> Callable[..., Any]:
    runner = pull_app.test_cli_runner()

    def _run(*args: str) -> Any:
        return runner.invoke(cli, list(args))

    return _run


@pytest.fixture
def cursor_feed(fake: tuple[FakeFeeds, str], silkway: Callable[..., Any]) -> FakeFeeds:
    feeds, base_url = fake
    result = silkway("feeds", "add", "--carrier", "acme_feed", "--kind", "cursor", "--url", base_url)
    assert result.exit_code == 0, result.output
    return feeds


def poll(app: Flask, now: datetime) -> PollResult:
    [result] = poll_feeds(app, now)
    return result


def feed_row(session: Session) -> SimpleNamespace:
    row = session.scalars(select(models.FeedCursor)).one()
    snapshot = SimpleNamespace(cursor=row.cursor, failures=row.failures, next_poll_at=row.next_poll_at)
    session.rollback()  # end the read: on SQLite every transaction holds the write lock
    return snapshot


def stored_events(session: Session) -> int:
    count = session.scalar(select(func.count()).select_from(models.ScanEvent)) or 0
    session.rollback()
    return count


def timeline(client: FlaskClient, number: str = NUMBER) -> list[dict[str, Any]]:
    resp = client.get(f"/api/v1/parcels/{number}")
    assert resp.status_code == 200, resp.get_json()
    events: list[dict[str, Any]] = resp.get_json()["events"]
    return events


def test_cursor_feed_is_read_page_by_page_until_caught_up(pull_app, cursor_feed, client, session):
    cursor_feed.events.extend(scan(hour) for hour in range(1, 6))
    result = poll(pull_app, utcnow())
    assert (result.state, result.accepted, result.duplicates) == ("ok", 5, 0)
    assert len(timeline(client)) == 5
    feed = feed_row(session)
    assert feed.cursor == "c5" and feed.failures == 0


def test_caught_up_feed_is_not_polled_again_before_its_interval(pull_app, cursor_feed):
    now = utcnow()
    poll(pull_app, now)
    requests = len(cursor_feed.seen)
    assert poll_feeds(pull_app, now + timedelta(seconds=60)) == []
    assert len(cursor_feed.seen) == requests


def test_server_errors_within_the_retry_budget_are_retried_transparently(pull_app, cursor_feed, client):
    cursor_feed.events.extend(scan(hour) for hour in range(1, 4))
    cursor_feed.script(fail=2)
    result = poll(pull_app, utcnow())
    assert (result.state, result.accepted) == ("ok", 3)
    assert len(timeline(client)) == 3


def test_server_failing_mid_feed_loses_no_event_and_duplicates_none(pull_app, cursor_feed, client, session):
    now = utcnow()
    cursor_feed.events.extend(scan(hour) for hour in range(1, 3))
    poll(pull_app, now)
    cursor_feed.events.extend(scan(hour) for hour in range(3, 7))
    cursor_feed.script(fail=3)  # more than PULL_RETRIES: this poll gives up
    failed = poll(pull_app, now + timedelta(minutes=10))
    assert failed.state == "failed" and "500" in (failed.error or "")
    feed = feed_row(session)
    assert feed.cursor == "c2" and feed.failures == 1 and feed.next_poll_at >= now + timedelta(minutes=10)
    assert stored_events(session) == 2
    recovered = poll(pull_app, feed.next_poll_at)
    assert (recovered.state, recovered.accepted, recovered.duplicates) == ("ok", 4, 0)
    assert len(timeline(client)) == 6 and stored_events(session) == 6
    assert feed_row(session).cursor == "c6"


def test_time_outs_are_retried_then_the_feed_is_postponed(pull_app, cursor_feed, session):
    now = utcnow()
    cursor_feed.events.extend(scan(hour) for hour in range(1, 3))
    cursor_feed.script(time_out=1)
    assert poll(pull_app, now).accepted == 2
    cursor_feed.events.append(scan(3))
    cursor_feed.script(time_out=3)
    failed = poll(pull_app, now + timedelta(hours=1))
    assert failed.state == "failed" and "timed out" in (failed.error or "")
    assert feed_row(session).cursor == "c2" and stored_events(session) == 2


def test_429_postpones_the_feed_by_its_retry_after(pull_app, cursor_feed, session):
    now = utcnow()
    cursor_feed.events.append(scan(1))
    cursor_feed.script(rate_limit=1)
    limited = poll(pull_app, now)
    assert limited.state == "rate_limited" and stored_events(session) == 0
    assert feed_row(session).next_poll_at == now + timedelta(seconds=120)
    requests = len(cursor_feed.seen)
    assert poll_feeds(pull_app, now + timedelta(seconds=119)) == []
    assert len(cursor_feed.seen) == requests
    assert poll(pull_app, now + timedelta(seconds=120)).accepted == 1


def test_unreadable_page_leaves_the_cursor_where_it_was(pull_app, cursor_feed, session):
    now = utcnow()
    cursor_feed.events.extend(scan(hour) for hour in range(1, 3))
    cursor_feed.script(corrupt=1)
    failed = poll(pull_app, now)
    assert failed.state == "failed" and "not JSON" in (failed.error or "")
    assert feed_row(session).cursor is None and stored_events(session) == 0
    assert poll(pull_app, now + timedelta(hours=2)).accepted == 2


def test_crash_between_fetch_and_commit_refetches_the_page(
    pull_app, cursor_feed, session, monkeypatch, client
):
    import web.feeds.pull

    now = utcnow()
    cursor_feed.events.extend(scan(hour) for hour in range(1, 5))
    real = web.feeds.pull.accept_payload
    calls = {"n": 0}

    def crash_on_second_page(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("power cut")
        return real(*args, **kwargs)

    monkeypatch.setattr(web.feeds.pull, "accept_payload", crash_on_second_page)
    crashed = poll(pull_app, now)
    assert crashed.state == "failed" and "power cut" in (crashed.error or "")
    assert feed_row(session).cursor == "c2" and stored_events(session) == 2
    monkeypatch.setattr(web.feeds.pull, "accept_payload", real)
    resumed = poll(pull_app, now + timedelta(hours=2))
    assert (resumed.accepted, resumed.duplicates) == (2, 0)
    assert len(timeline(client)) == 4


def test_a_page_whose_first_store_collides_is_stored_with_its_cursor_on_the_retry(
    pull_app, cursor_feed, session, monkeypatch, client
):
    from sqlalchemy.exc import IntegrityError

    import web.ingestion

    cursor_feed.events.extend(scan(hour) for hour in range(1, 5))
    real = web.ingestion.store_payload
    calls = {"n": 0}

    def collide_once(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        outcome = real(*args, **kwargs)  # written and flushed, then the commit collides
        if calls["n"] == 1:
            raise IntegrityError("INSERT INTO identifiers", {}, Exception("duplicate key value"))
        return outcome

    monkeypatch.setattr(web.ingestion, "store_payload", collide_once)
    result = poll(pull_app, utcnow())
    # The unit ran again: the page's events and its cursor are both committed, once.
    assert (result.state, result.accepted, result.duplicates) == ("ok", 4, 0)
    assert calls["n"] == 3  # the first page twice, the second once
    assert feed_row(session).cursor == "c4" and stored_events(session) == 4
    assert len(timeline(client)) == 4


def test_a_rejected_page_stores_neither_its_events_nor_its_cursor(
    pull_app, cursor_feed, session, monkeypatch
):
    import web.ingestion
    from tracking.events import ItemError
    from tracking.payloads import BatchRejected

    now = utcnow()
    cursor_feed.events.extend(scan(hour) for hour in range(1, 5))
    real = web.ingestion.store_payload

    def reject(*args: Any, **kwargs: Any) -> Any:
        real(*args, **kwargs)  # written and flushed, then refused as a whole
        raise BatchRejected([ItemError(0, "refused")], 2)

    monkeypatch.setattr(web.ingestion, "store_payload", reject)
    failed = poll(pull_app, now)
    assert failed.state == "failed" and "1 of 2 items are invalid" in (failed.error or "")
    feed = feed_row(session)
    assert feed.cursor is None and feed.failures == 1 and stored_events(session) == 0
    assert session.scalar(select(func.count()).select_from(models.RawPayload)) == 0
    session.rollback()
    monkeypatch.setattr(web.ingestion, "store_payload", real)
    assert poll(pull_app, feed.next_poll_at).accepted == 4
    assert feed_row(session).cursor == "c4" and stored_events(session) == 4


def test_reading_the_feed_again_from_the_start_stores_nothing_twice(
    pull_app, cursor_feed, fake, silkway, session
):
    now = utcnow()
    cursor_feed.events.extend(scan(hour) for hour in range(1, 5))
    poll(pull_app, now)
    _, base_url = fake
    # Re-pointing the feed resets its cursor: pointed back, every page is fetched again.
    for url in ("http://127.0.0.1:9", base_url):
        assert (
            silkway("feeds", "add", "--carrier", "acme_feed", "--kind", "cursor", "--url", url).exit_code == 0
        )
    assert feed_row(session).cursor is None
    again = poll(pull_app, now + timedelta(minutes=1))
    assert (again.accepted, again.duplicates) == (0, 4)
    assert stored_events(session) == 4


def test_requests_to_one_carrier_are_spaced_by_its_rate_limit(pull_app, cursor_feed):
    pull_app.config.update(PULL_RATE_LIMITS={"acme_feed": [5.0, 1]})  # one request per 0.2 s, no burst
    cursor_feed.events.extend(scan(hour) for hour in range(1, 7))
    started = time.monotonic()
    poll(pull_app, utcnow())
    elapsed = time.monotonic() - started
    stamps = [seen.at for seen in cursor_feed.seen]
    assert len(stamps) == 4 and elapsed >= 0.6
    assert all(later - earlier >= 0.12 for earlier, later in pairwise(stamps))


def test_feeds_poll_command_prints_a_line_per_feed_and_fails_on_errors(cursor_feed, silkway):
    cursor_feed.events.append(scan(1))
    ok = silkway("feeds", "poll")
    assert ok.exit_code == 0 and "acme_feed (cursor): ok pages=2 accepted=1" in ok.output
    cursor_feed.script(fail=10)
    failed = silkway("feeds", "poll", "--all")
    assert failed.exit_code == 1 and "failed" in failed.output


def test_feeds_list_shows_cursor_and_failures(pull_app, cursor_feed, silkway):
    cursor_feed.events.append(scan(1))
    poll(pull_app, utcnow())
    listing = silkway("feeds", "list")
    assert listing.exit_code == 0 and "acme_feed cursor" in listing.output and "cursor=c1" in listing.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "cursor", "--url", "ftp://example.com/feed"], "http(s) URL"),
        (["--kind", "gopher", "--url", "http://example.com"], "gopher"),
        (["--kind", "russian_post", "--url", "http://example.com"], "speaks 'canonical'"),
    ],
)
def test_feeds_add_refuses_bad_configuration(silkway, make_key, args, message):
    make_key("carrier", "acme_feed")
    result = silkway("feeds", "add", "--carrier", "acme_feed", *args)
    assert result.exit_code == 2 and message in result.output


# -- Russian Post batch tickets ------------------------------------------------------------------

RP_NUMBER = "RA123456789RU"
RP_OPERATIONS = [
    {"type": 8, "attr": 0, "name": "Обработка", "at": "14.11.2026 03:25:00", "index": "125362"},
    {"type": 2, "attr": 1, "name": "Вручение", "at": "16.11.2026 13:45:00", "index": "130203"},
]


@pytest.fixture
def russian_post(
    fake: tuple[FakeFeeds, str],
    silkway: Callable[..., Any],
    client: FlaskClient,
    make_key: Callable[..., str],
) -> FakeFeeds:
    feeds, base_url = fake
    key = make_key("carrier", "acme_post")
    delivered = scan(2, "RB000000001RU") | {"status": "delivered", "substatus": "recipient"}
    first_mile = {"events": [scan(1, RP_NUMBER), delivered]}
    assert (
        client.post("/api/v1/carriers/acme_post/events", json=first_mile, headers=bearer(key)).status_code
        == 200
    )
    feeds.russian_post[RP_NUMBER] = RP_OPERATIONS
    url = base_url + RUSSIAN_POST_PATH
    result = silkway("feeds", "add", "--carrier", "russian_post", "--kind", "russian_post", "--url", url)
    assert result.exit_code == 0, result.output
    return feeds


def test_russian_post_ticket_flow_submits_waits_and_ingests_the_answer(
    pull_app, russian_post, client, session
):
    now = utcnow()
    submitted = poll(pull_app, now)
    assert (submitted.state, submitted.tickets_submitted, submitted.tickets_waiting) == ("ok", 1, 1)
    [ticket] = russian_post.tickets.values()
    assert ticket == [RP_NUMBER]  # the delivered parcel is not asked about
    assert poll_feeds(pull_app, now + timedelta(minutes=5)) == []  # the answer is not due yet

    russian_post.script(not_ready=1)
    waiting = poll(pull_app, now + timedelta(minutes=15))
    assert (waiting.tickets_fetched, waiting.tickets_waiting, waiting.accepted) == (0, 1, 0)
    assert poll_feeds(pull_app, now + timedelta(minutes=20)) == []  # asked again only 15 minutes later

    fetched = poll(pull_app, now + timedelta(minutes=30))
    assert (fetched.tickets_fetched, fetched.tickets_waiting, fetched.accepted) == (1, 0, 2)
    events = timeline(client, RP_NUMBER)
    assert events[0]["status"] == "delivered" and events[0]["carrier"] == "russian_post"
    row = session.scalars(select(models.RussianPostTicket)).one()
    assert row.status == "done" and row.raw_payload_id is not None and row.attempts == 2
    assert session.get(models.RawPayload, row.raw_payload_id).source == "pull"
    session.rollback()


def test_a_number_russian_post_has_no_data_for_is_a_notice_not_a_failed_ticket(
    pull_app, russian_post, client, make_key, session
):
    # NUMBER has a shape Russian Post tracks but the batch service knows nothing of it: Error 12.
    key = make_key("carrier", "acme_post")
    assert client.post(
        "/api/v1/carriers/acme_post/events", json={"events": [scan(1)]}, headers=bearer(key)
    ).status_code == 200
    now = utcnow()
    poll(pull_app, now)
    [ticket] = russian_post.tickets.values()
    assert set(ticket) == {RP_NUMBER, NUMBER}
    fetched = poll(pull_app, now + timedelta(minutes=15))
    assert (fetched.state, fetched.tickets_fetched, fetched.accepted) == ("ok", 1, 2)
    assert (fetched.rejected, fetched.ignored) == (0, 1)
    assert any(NUMBER in note and "12" in note for note in fetched.notes)
    assert "ignored=1" in fetched.summary()
    assert timeline(client, RP_NUMBER)[0]["status"] == "delivered"
    row = session.scalars(select(models.RussianPostTicket)).one()
    assert row.status == "done" and row.last_error is None
    session.rollback()


def test_a_ticket_answer_whose_first_store_collides_is_stored_with_the_ticket_done(
    pull_app, russian_post, client, session, monkeypatch
):
    from sqlalchemy.exc import OperationalError

    import web.ingestion

    now = utcnow()
    poll(pull_app, now)
    real = web.ingestion.store_payload
    calls = {"n": 0}

    def collide_once(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        outcome = real(*args, **kwargs)
        if calls["n"] == 1:
            raise OperationalError("UPDATE parcels", {}, Exception("deadlock detected"))
        return outcome

    monkeypatch.setattr(web.ingestion, "store_payload", collide_once)
    fetched = poll(pull_app, now + timedelta(minutes=15))
    assert (fetched.state, fetched.tickets_fetched, fetched.accepted, fetched.duplicates) == ("ok", 1, 2, 0)
    assert calls["n"] == 2
    row = session.scalars(select(models.RussianPostTicket)).one()
    assert row.status == "done" and row.attempts == 1 and row.raw_payload_id is not None
    pulled = session.scalars(select(models.RawPayload.id).where(models.RawPayload.source == "pull")).all()
    assert pulled == [row.raw_payload_id]
    session.rollback()
    assert timeline(client, RP_NUMBER)[0]["status"] == "delivered"


def test_russian_post_is_asked_again_after_the_submit_interval(pull_app, russian_post):
    now = utcnow()
    poll(pull_app, now)
    poll(pull_app, now + timedelta(minutes=15))
    assert poll_feeds(pull_app, now + timedelta(hours=1)) == []
    again = poll(pull_app, now + timedelta(hours=4))
    # Delivered by now, so nothing left to ask about: no new ticket.
    assert again.tickets_submitted == 0 and len(russian_post.tickets) == 1


def test_russian_post_without_credentials_fails_clearly(pull_app, russian_post):
    pull_app.config.update(RUSSIAN_POST_LOGIN=None)
    result = poll(pull_app, utcnow())
    assert result.state == "failed" and "SILKWAY_RUSSIAN_POST_LOGIN" in (result.error or "")
