"""What a periodic job is (the scheduler runs them, web/worker/jobs.py lists them): its own module, so the
list and the scheduler both import it and neither imports the other for it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import Flask

JobFunc = Callable[[Flask, datetime], object]


@dataclass(frozen=True, slots=True)
class Job:
    """A periodic job: a function of (app, now) run every ``seconds``.

    With ``after`` (another job's name) its first run in a scheduler waits until that job's first run has
    ended: the ETA revisions wait for the first model of the refresh, so that they are worked out with the
    model the lookups use rather than the prior it replaces a few seconds later.
    """

    name: str
    func: JobFunc
    seconds: int
    after: str | None = None
