"""tracking.mail_outbox on a real database: what is worth a mail, once per situation, a burst coalesced,
the delay mail, and claiming and recording attempts (retries with backoff; a sent mail is never due)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.tracking.helpers import MOSCOW, at, parcel_of, scan, store
from tracking import models
from tracking.events import ScanEvent
from tracking.mail_outbox import (
    COALESCE,
    claim_batch,
    enqueue_changes,
    record_failure,
    record_sent,
    retry_delay,
    situation,
)
from tracking.stalled import flag_stalled
from tracking.statuses import Status
from tracking.subscriptions import check_subscriber, confirm, subscribe

NUMBER = "RX747628194CN"
LEASE = timedelta(minutes=5)


@pytest.mark.parametrize(
    ("status", "substatus", "kind"),
    [
        ("in_transit", "departed", None),
        ("in_transit", "arrived_destination_country", "arrived"),
        ("in_transit", "customs_processing", "arrived"),
        ("in_transit", "customs_cleared", None),
        ("exception", "customs_held", "customs"),
        ("exception", "customs_duty_due", "customs"),
        ("exception", "returning", "returning"),
        ("exception", "lost", None),
        ("out_for_delivery", "courier", "out_for_delivery"),
        ("available_for_pickup", "post_office", "ready_to_collect"),
        ("delivered", "recipient", "delivered"),
    ],
)
def test_only_some_situations_are_worth_a_mail(status: str, substatus: str, kind: str | None) -> None:
    assert situation(status, substatus) == kind


def confirmed(session: Session, number: str = NUMBER, address: str = "shopper@example.com") -> int:
    """Store a first scan of ``number`` and a confirmed subscription to it whose confirmation was sent."""
    store(session, scan(number, 0))
    row = subscribe(session, parcel_of(session, number).id, check_subscriber(address, "en"), at(0))
    confirm(session, row.token, at(0))
    for mail in claim_batch(session, at(0), 10, LEASE):
        record_sent(session, mail, at(0))
    return row.id


def ingest(session: Session, *events: ScanEvent, now_hours: float) -> None:
    report = store(session, *events)
    moves = [
        (c.parcel_id, c.old.status.value, c.old.substatus, c.new.status.value, c.new.substatus)
        for c in report.changes
    ]
    enqueue_changes(session, moves, at(now_hours))


def pending(session: Session) -> list[models.MailMessage]:
    m = models.MailMessage
    return list(session.scalars(select(m).where(m.sent_at.is_(None)).order_by(m.id)))


def test_nothing_is_queued_before_the_subscription_is_confirmed(session: Session) -> None:
    store(session, scan(NUMBER, 0))
    subscribe(session, parcel_of(session, NUMBER).id, check_subscriber("a@example.com", "ru"), at(0))
    ingest(session, scan(NUMBER, 1, Status.OUT_FOR_DELIVERY, "courier"), now_hours=1)
    assert [m.kind for m in pending(session)] == ["confirm"]


def test_a_mail_waits_out_the_window_and_a_burst_of_changes_makes_one(session: Session) -> None:
    confirmed(session)
    steps = [
        (Status.IN_TRANSIT, "arrived_destination_country"),
        (Status.IN_TRANSIT, "customs_cleared"),
        (Status.EXCEPTION, "customs_held"),
        (Status.OUT_FOR_DELIVERY, "courier"),
    ]
    for hour, (status, sub) in enumerate(steps, start=1):
        ingest(session, scan(NUMBER, hour, status, sub, location=MOSCOW), now_hours=5 + hour / 3600)
    (mail,) = pending(session)
    assert mail.kind == "out_for_delivery"
    assert json.loads(mail.payload)["kinds"] == ["arrived", "customs", "out_for_delivery"]
    assert claim_batch(session, at(5) + COALESCE - timedelta(seconds=10), 10, LEASE) == []
    (due,) = claim_batch(session, at(5) + COALESCE + timedelta(seconds=10), 10, LEASE)
    assert due.id == mail.id and due.email == "shopper@example.com" and due.language == "en"


def test_each_situation_once_until_it_changes_and_arrival_and_delivery_only_once(session: Session) -> None:
    sub_id = confirmed(session)
    moments = iter(range(1, 100))

    def step(status: Status, sub: str) -> None:
        hour = next(moments)
        ingest(session, scan(NUMBER, hour, status, sub, location=MOSCOW), now_hours=hour)
        for mail in claim_batch(session, at(hour + 1), 10, LEASE):
            record_sent(session, mail, at(hour + 1))

    step(Status.IN_TRANSIT, "arrived_destination_country")
    step(Status.EXCEPTION, "customs_held")
    step(Status.EXCEPTION, "customs_held")  # the same situation again: nothing
    step(Status.IN_TRANSIT, "customs_cleared")
    step(Status.IN_TRANSIT, "customs_processing")  # arrival again: never twice
    step(Status.EXCEPTION, "customs_held")  # held again after a change: a new mail
    step(Status.DELIVERED, "recipient")
    m = models.MailMessage
    kinds = session.scalars(select(m.kind).where(m.subscription_id == sub_id).order_by(m.id)).all()
    assert kinds == ["confirm", "arrived", "customs", "customs", "delivered"]


def test_a_stalled_parcel_gets_one_delay_mail(session: Session) -> None:
    sub_id = confirmed(session)
    flag_stalled(session, at(8 * 24))
    flag_stalled(session, at(8 * 24 + 1))
    (mail,) = pending(session)
    assert mail.subscription_id == sub_id and mail.kind == "delayed"
    details = json.loads(mail.payload)
    assert details["usual_hours"] == 7 * 24 and details["silent_since"] == at(0).isoformat()


def test_failures_are_retried_with_backoff_and_a_sent_mail_is_never_due_again(session: Session) -> None:
    confirmed(session)
    ingest(session, scan(NUMBER, 1, Status.DELIVERED, "recipient"), now_hours=1)
    now = at(2)
    delays = []
    for _ in range(4):
        (mail,) = claim_batch(session, now, 10, LEASE)
        assert claim_batch(session, now, 10, LEASE) == []  # leased
        assert record_failure(session, mail, "connection refused", False, now) == "retrying"
        (row,) = pending(session)
        delays.append(row.next_attempt_at - now)
        now = row.next_attempt_at
    assert delays == [retry_delay(1), retry_delay(2), retry_delay(3), retry_delay(4)]
    assert delays[:2] == [timedelta(seconds=30), timedelta(seconds=60)]
    assert retry_delay(20) == timedelta(minutes=30)
    (mail,) = claim_batch(session, now, 10, LEASE)
    assert record_sent(session, mail, now) == "sent"
    assert claim_batch(session, now + timedelta(days=1), 10, LEASE) == []


def test_a_permanent_refusal_or_an_old_mail_is_given_up(session: Session) -> None:
    confirmed(session)
    ingest(session, scan(NUMBER, 1, Status.OUT_FOR_DELIVERY, "courier"), now_hours=1)
    (mail,) = claim_batch(session, at(2), 10, LEASE)
    assert record_failure(session, mail, "550 no such user", True, at(2)) == "given_up"
    assert claim_batch(session, at(100), 10, LEASE) == []
    ingest(session, scan(NUMBER, 3, Status.AVAILABLE_FOR_PICKUP, "post_office"), now_hours=3)
    (mail,) = claim_batch(session, at(4), 10, LEASE)
    assert record_failure(session, mail, "timed out", False, at(3) + timedelta(days=3)) == "given_up"
