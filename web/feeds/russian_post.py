"""Polling Russian Post's batch service: submit numbers for a ticket, fetch the answer later.

Submit (getTicket): the numbers of parcels not delivered yet (tracking.feeds.russian_post_numbers), at
most 3000 a ticket, each ticket stored with ``fetch_after`` = now + RUSSIAN_POST_TICKET_DELAY_SECONDS.
Fetch (getResponseByTicket) once due: "not ready" asks again RUSSIAN_POST_TICKET_RETRY_SECONDS later,
"expired" gives the ticket up, and a ready answer goes through ``accept_payload(..., source="pull")``
in the same unit of work (web.db.commit_unit) that marks the ticket done: a retry after a collision
redoes both. A new batch is submitted when no ticket is pending and RUSSIAN_POST_SUBMIT_INTERVAL_SECONDS
have passed since the last one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from carriers import russian_post_ticket as tickets
from carriers.xmlfeed import first, load_xml, text
from tracking import feeds, models
from tracking.events import PayloadError
from tracking.payloads import Outcome
from web.db import commit_unit
from web.feeds.polling import FeedPoller, PollResult
from web.ingestion import PayloadUnreadable

TICKET_LIFETIME = timedelta(hours=32)


def poll_russian_post(poller: FeedPoller, session: Session, feed_id: int, result: PollResult) -> None:
    """Fetch the feed's due tickets, submit a new batch when one is due, and schedule the next poll."""
    login, password = (
        poller.settings.values["RUSSIAN_POST_LOGIN"],
        poller.settings.values["RUSSIAN_POST_PASSWORD"],
    )
    if not login or not password:
        poller.fail(
            session, feed_id, result, "set SILKWAY_RUSSIAN_POST_LOGIN and SILKWAY_RUSSIAN_POST_PASSWORD"
        )
        return

    def expire_and_list() -> list[tuple[int, str]]:
        feeds.expire_stale_tickets(session, feed_id, poller.now - TICKET_LIFETIME)
        pending = feeds.pending_tickets(session, feed_id)
        return [(t.id, t.ticket) for t in pending if t.fetch_after <= poller.now]

    due = commit_unit(session, expire_and_list)
    for ticket_id, ticket in due:
        if not _fetch_ticket(poller, session, feed_id, result, ticket_id, ticket, login, password):
            return
    idle = not feeds.pending_tickets(session, feed_id) and _submission_due(poller, session, feed_id)
    if idle and not _submit(poller, session, feed_id, result, login, password):
        return

    def done() -> None:
        feed = poller.feed(session, feed_id)
        waiting = feeds.pending_tickets(session, feed_id)
        result.tickets_waiting = len(waiting)
        feeds.record_success(feed, poller.now, _next_russian_post_poll(poller, session, feed_id, waiting))

    commit_unit(session, done)


def _fetch_ticket(
    poller: FeedPoller,
    session: Session,
    feed_id: int,
    result: PollResult,
    ticket_id: int,
    ticket: str,
    login: str,
    password: str,
) -> bool:
    feed = poller.feed(session, feed_id)
    url, code = feed.base_url, feed.carrier.code
    session.rollback()
    raw = poller.fetch(
        session, feed_id, result, code, url, tickets.build_answer_request(ticket, login, password)
    )
    if raw is None:
        return False
    outcome = commit_unit(session, partial(_settle_ticket, poller, session, feed_id, ticket_id, raw))
    if outcome is None:
        return True
    result.count(outcome)
    result.tickets_fetched += 1
    if outcome.notices:
        # Numbers Russian Post has nothing on (yet): its answer, not a failure of the ticket.
        named = ", ".join(f"{n.tracking_number} ({n.code}: {n.reason})" for n in outcome.notices[:5])
        more = f" and {len(outcome.notices) - 5} more" if len(outcome.notices) > 5 else ""
        result.notes.append(f"ticket {ticket}: no events for {named}{more}")
    return True


def _settle_ticket(
    poller: FeedPoller, session: Session, feed_id: int, ticket_id: int, raw: bytes
) -> Outcome | None:
    """The unit of work of a fetched answer: the ticket moves on and, once ready, its events are stored.

    The outcome of the stored answer, or None when nothing was ingested (the ticket is not pending any
    more, not ready yet, given up, or its answer unreadable and asked for again later).
    """
    row = session.get(models.RussianPostTicket, ticket_id)
    if row is None or row.status != "pending":
        return None
    row.attempts += 1
    try:
        check_ticket_answer(raw)
    except tickets.TicketNotReady:
        row.fetch_after = feeds.later(poller.now, poller.settings.number("RUSSIAN_POST_TICKET_RETRY_SECONDS"))
        row.last_error = "not ready yet"
        return None
    except tickets.TicketError as exc:
        row.status = "expired" if isinstance(exc, tickets.TicketExpired) else "failed"
        row.last_error = str(exc)[: feeds.MAX_ERROR]
        return None
    except PayloadError as exc:
        _ticket_retry(poller, row, f"unreadable answer: {exc}")
        return None
    try:
        # accept_payload reads the whole answer before it writes anything: nothing is stored yet.
        outcome = poller.ingest(session, poller.feed(session, feed_id).carrier, raw, "text/xml")
    except PayloadUnreadable as exc:
        _ticket_retry(poller, row, f"unreadable answer: {exc}")
        return None
    row.status, row.fetched_at, row.last_error = "done", poller.now, None
    row.raw_payload_id = outcome.raw_payload_id
    return outcome


def _ticket_retry(poller: FeedPoller, row: models.RussianPostTicket, error: str) -> None:
    row.last_error = error[: feeds.MAX_ERROR]
    if row.attempts >= poller.settings.number("RUSSIAN_POST_TICKET_MAX_ATTEMPTS"):
        row.status = "failed"
    else:
        row.fetch_after = feeds.later(poller.now, poller.settings.number("RUSSIAN_POST_TICKET_RETRY_SECONDS"))


def _submission_due(poller: FeedPoller, session: Session, feed_id: int) -> bool:
    last = _last_submission(session, feed_id)
    interval = timedelta(seconds=poller.settings.number("RUSSIAN_POST_SUBMIT_INTERVAL_SECONDS"))
    return last is None or last + interval <= poller.now


def _submit(
    poller: FeedPoller, session: Session, feed_id: int, result: PollResult, login: str, password: str
) -> bool:
    feed = poller.feed(session, feed_id)
    url, carrier = feed.base_url, feed.carrier
    since = poller.now - timedelta(days=poller.settings.number("RUSSIAN_POST_NUMBER_MAX_AGE_DAYS"))
    numbers = feeds.russian_post_numbers(session, carrier, since)
    code = carrier.code
    session.rollback()
    for start in range(0, len(numbers), tickets.MAX_NUMBERS):
        batch = numbers[start : start + tickets.MAX_NUMBERS]
        body = tickets.build_ticket_request(batch, login, password)
        raw = poller.fetch(session, feed_id, result, code, url, body)
        if raw is None:
            return False
        try:
            ticket = tickets.parse_ticket_id(raw)
        except PayloadError as exc:
            poller.fail(session, feed_id, result, f"getTicket: {exc}")
            return False
        fetch_after = feeds.later(poller.now, poller.settings.number("RUSSIAN_POST_TICKET_DELAY_SECONDS"))
        commit_unit(session, partial(_add_ticket, poller, session, feed_id, ticket, len(batch), fetch_after))
        result.tickets_submitted += 1
    if not numbers:
        result.notes.append("no parcels to ask Russian Post about")
    return True


def _add_ticket(
    poller: FeedPoller, session: Session, feed_id: int, ticket: str, numbers: int, fetch_after: datetime
) -> None:
    feeds.add_ticket(session, poller.feed(session, feed_id), ticket, numbers, poller.now, fetch_after)


def _next_russian_post_poll(
    poller: FeedPoller, session: Session, feed_id: int, waiting: list[models.RussianPostTicket]
) -> datetime:
    if waiting:
        return min(t.fetch_after for t in waiting)
    last = _last_submission(session, feed_id) or poller.now
    return last + timedelta(seconds=poller.settings.number("RUSSIAN_POST_SUBMIT_INTERVAL_SECONDS"))


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
