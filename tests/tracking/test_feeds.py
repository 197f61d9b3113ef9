"""tracking.feeds on a real database: polled feeds' configuration, polling state and Russian Post tickets."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from tests.tracking.helpers import T0, at
from tracking import models
from tracking.accounts import ensure_carrier
from tracking.feeds import (
    FeedError,
    add_feed,
    add_ticket,
    all_feeds,
    backoff_seconds,
    due_feed_ids,
    expire_stale_tickets,
    feed_of,
    later,
    pending_tickets,
    record_failure,
    record_success,
    russian_post_numbers,
)


@pytest.fixture
def canonical(session: Session) -> models.Carrier:
    return ensure_carrier(session, "acme", "canonical")


@pytest.fixture
def russian_post(session: Session) -> models.Carrier:
    return ensure_carrier(session, "russian-post", "russian_post")


def test_a_new_feed_is_enabled_and_due_at_once(session: Session, canonical: models.Carrier) -> None:
    feed = add_feed(session, canonical, "cursor", " https://feeds.example.com/acme/ ")
    assert (feed.base_url, feed.enabled, feed.cursor, feed.failures) == (
        "https://feeds.example.com/acme",
        True,
        None,
        0,
    )
    assert due_feed_ids(session, T0) == [feed.id]
    assert feed_of(session, canonical.id, "cursor") is feed


def test_re_pointing_a_feed_starts_it_from_the_beginning(session: Session, canonical: models.Carrier) -> None:
    feed = add_feed(session, canonical, "cursor", "https://a.example.com")
    feed.cursor, feed.enabled = "c42", False
    same = add_feed(session, canonical, "cursor", "https://a.example.com/")
    assert (same.id, same.cursor, same.enabled) == (feed.id, "c42", True)
    moved = add_feed(session, canonical, "cursor", "https://b.example.com")
    assert (moved.id, moved.base_url, moved.cursor) == (feed.id, "https://b.example.com", None)


def test_an_unknown_kind_is_refused(session: Session, canonical: models.Carrier) -> None:
    with pytest.raises(FeedError, match="kind must be one of cursor, russian_post"):
        add_feed(session, canonical, "sftp", "https://a.example.com")


def test_a_feed_must_be_of_the_format_its_carrier_speaks(
    session: Session, canonical: models.Carrier, russian_post: models.Carrier
) -> None:
    with pytest.raises(FeedError, match="parsed as 'russian_post', but carrier 'acme' speaks 'canonical'"):
        add_feed(session, canonical, "russian_post", "https://tracking.pochta.ru")
    assert (
        add_feed(session, russian_post, "russian_post", "https://tracking.pochta.ru").kind == "russian_post"
    )


@pytest.mark.parametrize(
    "url", ["ftp://a.example.com", "https://", "a.example.com", "https://a.example/" + "x" * 500]
)
def test_a_feed_url_is_an_http_url_of_at_most_500_characters(
    session: Session, canonical: models.Carrier, url: str
) -> None:
    with pytest.raises(FeedError, match="http"):
        add_feed(session, canonical, "cursor", url)


def test_only_enabled_feeds_whose_time_has_come_are_due(session: Session, canonical: models.Carrier) -> None:
    other = ensure_carrier(session, "other", "canonical")
    third = ensure_carrier(session, "third", "canonical")
    due = add_feed(session, canonical, "cursor", "https://a.example.com")
    waiting = add_feed(session, other, "cursor", "https://b.example.com")
    disabled = add_feed(session, third, "cursor", "https://c.example.com")
    due.next_poll_at, waiting.next_poll_at = T0, at(1)
    disabled.enabled = False
    session.flush()
    assert due_feed_ids(session, T0) == [due.id]
    assert due_feed_ids(session, at(1)) == [due.id, waiting.id]


def test_all_feeds_are_listed_by_carrier_code_then_kind(session: Session) -> None:
    zeta = ensure_carrier(session, "zeta", "canonical")
    alpha = ensure_carrier(session, "alpha", "canonical")
    add_feed(session, zeta, "cursor", "https://z.example.com")
    add_feed(session, alpha, "cursor", "https://a.example.com")
    assert [(f.carrier.code, f.kind) for f in all_feeds(session)] == [("alpha", "cursor"), ("zeta", "cursor")]


def test_backoff_doubles_with_each_failure_up_to_the_cap_with_full_jitter() -> None:
    ceiling = [backoff_seconds(n, 30, 600, rand=lambda low, high: high) for n in range(1, 8)]
    assert ceiling == [30, 60, 120, 240, 480, 600, 600]
    assert backoff_seconds(3, 30, 600, rand=lambda low, high: low) == 0
    assert backoff_seconds(0, 30, 600, rand=lambda low, high: high) == 30
    assert 0 <= backoff_seconds(4, 30, 600) <= 240


def test_a_failure_is_counted_and_its_error_kept_short_and_a_success_clears_them(
    session: Session, canonical: models.Carrier
) -> None:
    feed = add_feed(session, canonical, "cursor", "https://a.example.com")
    feed.cursor = "c7"
    record_failure(feed, T0, "boom " * 1000, retry_at=at(1))
    record_failure(feed, at(1), "timed out", retry_at=at(2))
    assert (feed.failures, feed.last_error, feed.last_polled_at, feed.next_poll_at) == (
        2,
        "timed out",
        at(1),
        at(2),
    )
    assert feed.cursor == "c7"
    record_failure(feed, at(2), "x" * 5000, retry_at=at(3))
    assert len(feed.last_error or "") == 1000
    record_success(feed, at(3), next_poll_at=at(3.5))
    assert (feed.failures, feed.last_error, feed.last_success_at, feed.next_poll_at) == (
        0,
        None,
        at(3),
        at(3.5),
    )


def _parcel(session: Session, numbers: list[tuple[str, str | None]], status: str = "in_transit") -> None:
    parcel = models.Parcel(status=status, substatus="other", created_at=at(0))
    session.add(parcel)
    session.flush()
    for number, code in numbers:
        session.add(models.Identifier(parcel_id=parcel.id, number=number, carrier_code=code))
    session.flush()


def test_russian_post_is_asked_about_open_parcels_with_numbers_it_can_answer_for(
    session: Session, russian_post: models.Carrier
) -> None:
    _parcel(session, [("LP00123456789012", "cainiao"), ("RX747628194CN", None)])
    _parcel(session, [("62009147017544", None)])
    _parcel(session, [("1106153417", "cdek")])
    _parcel(session, [("RPINTERNAL42", "russian-post")])
    _parcel(session, [("RD025500807SE", None)], status="delivered")
    assert russian_post_numbers(session, russian_post, since=at(-1)) == [
        "RX747628194CN",
        "62009147017544",
        "RPINTERNAL42",
    ]
    assert russian_post_numbers(session, russian_post, since=at(1)) == []


def test_tickets_wait_for_their_answer_oldest_first_and_expire_when_stale(
    session: Session, russian_post: models.Carrier
) -> None:
    feed = add_feed(session, russian_post, "russian_post", "https://tracking.pochta.ru")
    old = add_ticket(session, feed, "T-OLD", 3000, at(0), fetch_after=at(0.25))
    new = add_ticket(session, feed, "T-NEW" + "x" * 200, 12, at(30), fetch_after=later(at(30), 900))
    assert (new.status, new.numbers, new.attempts, new.fetch_after) == ("pending", 12, 0, at(30.25))
    assert len(new.ticket) == 100
    assert [t.id for t in pending_tickets(session, feed.id)] == [old.id, new.id]
    assert expire_stale_tickets(session, feed.id, older_than=at(24)) == 1
    assert old.status == "expired" and "no answer" in (old.last_error or "")
    assert [t.id for t in pending_tickets(session, feed.id)] == [new.id]


def test_later_is_a_number_of_seconds_after() -> None:
    assert later(T0, 90) == T0 + timedelta(seconds=90)
