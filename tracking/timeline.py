"""Deriving a parcel's status from its events: by event time, never by arrival order.

The status is the event with the greatest precedence key ``(tier, occurred_at, progress)``:
- tier 0: ``pending``/``info_received`` (a label created late never hides a scan of the parcel moving);
- tier 1: every other status;
- tier 2: ``delivered`` (terminal: no later-stamped scan of the same parcel undoes it).
Because the result is a maximum, it does not depend on the order in which events arrive: a late old
scan can never override a newer one, and the result of applying events one by one equals the result of
deriving from all of them at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tracking.statuses import PROGRESS, Status

_TIER = {Status.PENDING: 0, Status.INFO_RECEIVED: 0, Status.DELIVERED: 2}


@dataclass(frozen=True, slots=True)
class StatusState:
    """A parcel's derived status and the instant of the event it came from."""

    status: Status
    substatus: str
    at: datetime | None

    def key(self) -> tuple[int, datetime | None, int, str]:
        """The precedence key; a greater key wins."""
        return (_TIER.get(self.status, 1), self.at, PROGRESS[self.status], self.substatus)


PENDING = StatusState(Status.PENDING, "registered", None)


def supersedes(new: StatusState, current: StatusState) -> bool:
    """True when ``new`` should replace ``current`` as the parcel's status."""
    if current.at is None:
        return new.at is not None or new.key()[0] > current.key()[0]
    if new.at is None:
        return False
    return new.key() > current.key()


def apply(current: StatusState, candidates: list[StatusState]) -> StatusState:
    """Fold new events into a current state; order-independent."""
    state = current
    for candidate in candidates:
        if supersedes(candidate, state):
            state = candidate
    return state


def derive(events: list[StatusState]) -> StatusState:
    """The status of a parcel with these events (PENDING when there are none)."""
    return apply(PENDING, events)
