"""tracking.subscriptions on a real database: checked addresses, double opt-in, unsubscribing blanks the
address, merges carry subscriptions along, retention deletes them once tracking has ended."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.tracking.helpers import at, parcel_of, scan, store
from tracking import models
from tracking.mail_outbox import enqueue_changes
from tracking.statuses import Status
from tracking.subscriptions import (
    Subscriber,
    SubscriptionError,
    check_subscriber,
    confirm,
    prune_batch,
    subscribe,
    unsubscribe,
)

NUMBER = "RX747628194CN"
ADDRESS = "Shopper.One@Example.COM"


def mails(session: Session, kind: str | None = None) -> list[models.MailMessage]:
    query = select(models.MailMessage).order_by(models.MailMessage.id)
    if kind is not None:
        query = query.where(models.MailMessage.kind == kind)
    return list(session.scalars(query))


@pytest.mark.parametrize(
    ("email", "language", "field"),
    [
        ("", "ru", "email"),
        (None, "ru", "email"),
        ("no-at-sign", "ru", "email"),
        ("a@b", "ru", "email"),
        ("two@@example.com", "ru", "email"),
        ("a..b@example.com", "ru", "email"),
        ("line\r\nBcc: x@example.com", "ru", "email"),
        ("a" * 250 + "@example.com", "ru", "email"),
        ("shopper@example.com", "de", "language"),
        ("shopper@example.com", 7, "language"),
    ],
)
def test_a_bad_address_or_language_is_refused_naming_the_field_without_the_address(
    email: object, language: object, field: str
) -> None:
    with pytest.raises(SubscriptionError) as refused:
        check_subscriber(email, language)
    assert refused.value.field == field
    assert not isinstance(email, str) or not email or email not in str(refused.value)


def test_the_domain_is_kept_in_lower_case_and_russian_is_the_default_language() -> None:
    assert check_subscriber(f"  {ADDRESS} ", None) == Subscriber("Shopper.One@example.com", "ru")


def test_subscribing_twice_is_one_subscription_with_one_waiting_confirmation(session: Session) -> None:
    store(session, scan(NUMBER, 0))
    parcel = parcel_of(session, NUMBER)
    first = subscribe(session, parcel.id, check_subscriber(ADDRESS, "en"), at(1))
    again = subscribe(session, parcel.id, check_subscriber(ADDRESS, "zh"), at(2))
    assert again.id == first.id and again.language == "zh"
    assert [m.kind for m in mails(session)] == ["confirm"]


def test_a_confirmed_subscription_gets_no_new_confirmation(session: Session) -> None:
    store(session, scan(NUMBER, 0))
    row = subscribe(session, parcel_of(session, NUMBER).id, check_subscriber(ADDRESS, "en"), at(1))
    assert confirm(session, row.token, at(2)) is row
    assert row.confirmed_at == at(2)
    subscribe(session, row.parcel_id, check_subscriber(ADDRESS, "en"), at(3))
    assert len(mails(session, "confirm")) == 1


def test_after_confirming_only_what_happens_next_is_mailed(session: Session) -> None:
    store(session, scan(NUMBER, 0, Status.AVAILABLE_FOR_PICKUP, "post_office"))
    row = subscribe(session, parcel_of(session, NUMBER).id, check_subscriber(ADDRESS, "ru"), at(1))
    confirm(session, row.token, at(2))
    report = store(session, scan(NUMBER, 3, Status.AVAILABLE_FOR_PICKUP, "parcel_locker"))
    moves = [
        (c.parcel_id, c.old.status, c.old.substatus, c.new.status, c.new.substatus) for c in report.changes
    ]
    assert enqueue_changes(session, moves, at(3)) == 0  # still ready to collect: nothing new to say
    report = store(session, scan(NUMBER, 4, Status.DELIVERED, "pickup_point"))
    moves = [
        (c.parcel_id, c.old.status, c.old.substatus, c.new.status, c.new.substatus) for c in report.changes
    ]
    assert enqueue_changes(session, moves, at(4)) == 1
    assert [m.kind for m in mails(session)] == ["confirm", "delivered"]


def test_unknown_tokens_confirm_and_unsubscribe_nothing(session: Session) -> None:
    assert confirm(session, "nope") is None
    assert confirm(session, "x" * 500) is None
    assert unsubscribe(session, "nope") is False


def test_unsubscribing_blanks_the_address_and_drops_unsent_mail(session: Session) -> None:
    store(session, scan(NUMBER, 0))
    row = subscribe(session, parcel_of(session, NUMBER).id, check_subscriber(ADDRESS, "ru"), at(1))
    assert unsubscribe(session, row.token, at(2)) is True
    assert row.email is None and row.unsubscribed_at == at(2)
    assert mails(session) == []
    assert unsubscribe(session, row.token, at(3)) is False  # a second click is harmless
    fresh = subscribe(session, row.parcel_id, check_subscriber(ADDRESS, "ru"), at(4))
    assert fresh.id != row.id and fresh.confirmed_at is None


def test_a_merged_parcels_subscriptions_follow_it(session: Session) -> None:
    store(session, scan(NUMBER, 0), scan("LX299455986CN", 1))
    one, other = parcel_of(session, NUMBER), parcel_of(session, "LX299455986CN")
    subscribe(session, one.id, check_subscriber(ADDRESS, "ru"), at(2))
    subscribe(session, other.id, check_subscriber(ADDRESS, "ru"), at(2))
    subscribe(session, other.id, check_subscriber("second@example.com", "en"), at(2))
    store(session, scan(NUMBER, 3, linked_numbers=("LX299455986CN",)))
    target = parcel_of(session, NUMBER).id
    rows = list(session.scalars(select(models.MailSubscription).order_by(models.MailSubscription.id)))
    assert {r.parcel_id for r in rows} == {target}
    assert sorted(r.email or "" for r in rows) == ["", "Shopper.One@example.com", "second@example.com"]


def test_retention_deletes_subscriptions_once_tracking_ended_plus_the_period(session: Session) -> None:
    store(session, scan(NUMBER, 0, Status.DELIVERED, "recipient"), scan("LX299455986CN", 0))
    done, moving = parcel_of(session, NUMBER), parcel_of(session, "LX299455986CN")
    subscribe(session, done.id, check_subscriber(ADDRESS, "ru"), at(1))
    subscribe(session, moving.id, check_subscriber(ADDRESS, "ru"), at(1))
    assert prune_batch(session, at(0) - timedelta(days=1)) == 0  # ended, but not long enough ago
    assert prune_batch(session, at(1)) == 1
    assert prune_batch(session, at(1)) == 0
    left = session.scalars(select(models.MailSubscription.parcel_id)).all()
    assert left == [moving.id]
    assert session.scalar(select(func.count()).select_from(models.MailMessage)) == 1
