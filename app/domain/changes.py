"""What one event did to an authorization: its timeline entries, the notifications it implies and
which clocks to plan again. The aggregate's methods return a `Change`; recording persists it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.domain.codes import AuthorizationStatus as S


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    type: str
    at: datetime
    from_status: S | None = None
    to_status: S | None = None
    detail: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """What one event did: for the timeline, the notifications and the clocks."""

    before: S
    after: S
    timeline: tuple[TimelineEntry, ...]
    notifications: tuple[str, ...] = ()  # event types (`authorization.<name>`)
    expiry_moved: bool = False  # plan the expiring / expired clock events again
    versioned: bool = True  # the version (and so the ETag) moved
    info_due_moved: bool = False  # plan the information request's due clock again

    @property
    def status_changed(self) -> bool:
        return self.before is not self.after


def notification_for(name: str) -> str:
    """The event type of a transition into a status, or of a clock event (`authorization.<name>`)."""
    return f"authorization.{name}"


def received_change(*, now: datetime, detail: dict[str, Any] | None = None) -> Change:
    """What receiving a new request records: the `received` entry and its notification."""
    entry = TimelineEntry("received", now, to_status=S.RECEIVED, detail=detail)
    return Change(S.RECEIVED, S.RECEIVED, (entry,), (notification_for(S.RECEIVED.value),), versioned=False)
