"""What polling a feed shares between its kinds: the result of a poll and what a poll offers its flows.

Cursor feeds (web/feeds/pull.py) and Russian Post tickets (web/feeds/russian_post.py) both import this
module; neither imports the other for its types. The poller itself (pull.Poller) picks the flow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from tracking import models
from tracking.payloads import Outcome
from web.feeds.client import PullSettings


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
    ignored: int = 0
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
        self.ignored += outcome.ignored

    def summary(self) -> str:
        """One line for logs and the CLI."""
        line = (
            f"{self.carrier} ({self.kind}): {self.state} pages={self.pages} accepted={self.accepted} "
            f"duplicates={self.duplicates} rejected={self.rejected} ignored={self.ignored}"
        )
        if self.kind == "russian_post":
            line += (
                f" tickets_submitted={self.tickets_submitted} tickets_fetched={self.tickets_fetched}"
                f" tickets_waiting={self.tickets_waiting}"
            )
        return line + (f" error={self.error}" if self.error else "")


class FeedPoller(Protocol):
    """What a feed's flow gets from the poller (web.feeds.pull.Poller): its settings and clock, the feed
    row, fetching over HTTP, storing a payload inside the flow's unit of work, and recording a failure."""

    settings: PullSettings
    now: datetime

    def feed(self, session: Session, feed_id: int) -> models.FeedCursor:
        """The feed row, read afresh from the database."""
        ...

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
        ...

    def ingest(self, session: Session, carrier: models.Carrier, raw: bytes, content_type: str) -> Outcome:
        """Store a pulled payload through the one ingestion path; flushes, the flow's unit commits."""
        ...

    def fail(self, session: Session, feed_id: int, result: PollResult, error: str) -> None:
        """Record a failed poll (cursor untouched) and postpone the feed with backoff, as a unit of work."""
        ...
