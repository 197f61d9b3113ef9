"""The scheduler's ``notifications`` job: send the shoppers' mails from the outbox (tracking/mail_outbox.py).

Each batch is claimed in a unit of work of its own (committed before anything is sent), sent over one
SMTP connection, and each mail's outcome is committed as soon as the server has answered: a mail the
server took is recorded as sent and never claimed again; one it could not take waits for its retry.
Without ``SMTP_URL`` the job sends nothing and says so once in the log (mails keep waiting).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from functools import partial

from flask import Flask
from sqlalchemy.orm import Session

from tracking.mail_outbox import ClaimedMail, claim_batch, record_failure, record_sent
from tracking.queries import public_parcel
from tracking.subscriptions import parcel_number
from web.db import Database, commit_unit
from web.eta.lookup import parcel_eta
from web.mail.compose import MailSettings, compose
from web.mail.smtp import Outcome, parse_url, send_all

log = logging.getLogger("silkway.notifications")
BATCH = 50
BUDGET_SECONDS = 4.0
LEASE = timedelta(minutes=10)
SAID_OFF = "silkway.mail_off_said"


@dataclass(slots=True)
class MailCounts:
    """What one run of the job did."""

    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    given_up: int = 0


def notifications_job(app: Flask, now: datetime) -> MailCounts:
    """Send due mails, batch after batch, for up to a few seconds."""
    url = app.config.get("SMTP_URL")
    if not url:
        if not app.extensions.get(SAID_OFF):
            app.extensions[SAID_OFF] = True
            log.info("notifications: SILKWAY_SMTP_URL is not set, so no mail is sent; queued mails wait")
        return MailCounts()
    server = parse_url(str(url))
    settings = MailSettings(str(app.config["MAIL_FROM"]), str(app.config["PUBLIC_URL"]))
    db: Database = app.extensions["silkway.db"]
    total = MailCounts()
    started = time.monotonic()
    with db.session() as session:
        while True:
            claimed = commit_unit(session, partial(claim_batch, session, now, BATCH, LEASE))
            total.claimed += len(claimed)
            if not claimed:
                break
            messages = [_compose(session, settings, mail, now) for mail in claimed]
            for mail, outcome in zip(claimed, send_all(server, messages), strict=True):
                result = commit_unit(session, partial(_record, session, mail, outcome, now))
                setattr(total, result, getattr(total, result) + 1)
            if len(claimed) < BATCH or time.monotonic() - started > BUDGET_SECONDS:
                break
    if total.claimed:
        log.info(
            "notifications: %d sent, %d to retry, %d given up",
            total.sent,
            total.retrying,
            total.given_up,
        )
    return total


def _compose(session: Session, settings: MailSettings, mail: ClaimedMail, now: datetime) -> EmailMessage:
    """The message of a claimed mail, with the parcel's present status and ETA."""
    number = parcel_number(session, mail.parcel_id)
    view = public_parcel(session, number) if number else None
    eta = parcel_eta(session, view) if view is not None and mail.kind != "confirm" else None
    return compose(settings, mail, view, eta, now, view.tracking_number if view else number or "")


def _record(session: Session, mail: ClaimedMail, outcome: Outcome, now: datetime) -> str:
    if outcome.sent:
        return record_sent(session, mail, now)
    log.warning("notifications: mail %d not sent (attempt %d): %s", mail.id, mail.attempts + 1, outcome.error)
    return record_failure(session, mail, outcome.error, outcome.permanent, now)
