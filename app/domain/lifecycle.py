"""Status roll-up and the validated state machine of an authorization."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from app.domain.codes import AuthorizationStatus as S
from app.domain.codes import ReviewAction as A
from app.domain.transitions import SPEC


class Event(StrEnum):
    """What can happen to an authorization (the events of `app.domain.transitions.SPEC`)."""

    ANSWERED = "answered"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REPLACED = "replaced"
    APPEALED = "appealed"
    APPEAL_DECIDED = "appeal-decided"
    ATTACHED = "attached"


def compile_spec(text: str) -> dict[tuple[S, Event], frozenset[S]]:
    """The spec's rows as (status, event) -> the statuses that event may lead to."""
    table: dict[tuple[S, Event], set[S]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.split(maxsplit=3)
        if len(fields) < 4:
            raise ValueError(f"transition spec line {number}: expected 'from event to why'")
        source, event, target = S(fields[0]), Event(fields[1]), S(fields[2])
        table.setdefault((source, event), set()).add(target)
    return {key: frozenset(targets) for key, targets in table.items()}


TRANSITIONS = compile_spec(SPEC)

# Which status may follow which, whatever the event. A denied, cancelled or expired request is final:
# it is not updated (the practice resubmits).
ALLOWED_TRANSITIONS: dict[S, frozenset[S]] = {
    status: frozenset(
        target for (source, _event), targets in TRANSITIONS.items() if source is status for target in targets
    )
    - {status}
    for status in S
}


class InvalidTransition(ValueError):
    """A status change the lifecycle does not allow."""

    def __init__(self, current: S, target: S) -> None:
        super().__init__(f"an authorization that is {current} cannot become {target}")
        self.current = current
        self.target = target


def can_transition(current: S, target: S) -> bool:
    return target == current or target in ALLOWED_TRANSITIONS[current]


def check_transition(current: S, target: S) -> None:
    """Raise InvalidTransition unless `current -> target` is allowed (staying put always is)."""
    if not can_transition(current, target):
        raise InvalidTransition(current, target)


def accepts_updates(status: S) -> bool:
    """Whether a PASClaimUpdate may replace an authorization in this status."""
    return (status, Event.REPLACED) in TRANSITIONS


def allows(current: S, event: Event, target: S) -> bool:
    """Whether `event` may take an authorization from `current` to `target` (the spec's rows)."""
    return target in TRANSITIONS.get((current, event), frozenset())


def roll_up(actions: Iterable[A]) -> S:
    """The status of a whole request from its items' review actions."""
    all_actions = list(actions)
    if not all_actions:
        return S.RECEIVED
    active = [a for a in all_actions if a is not A.CANCELLED]
    if not active:
        return S.CANCELLED
    if any(a in (A.PENDED, A.CONTACT_PAYER) for a in active):
        return S.PENDED
    considered = [a for a in active if a is not A.NO_ACTION_REQUIRED]
    if not considered:
        return S.NOT_REQUIRED
    if all(a is A.NOT_CERTIFIED for a in considered):
        return S.DENIED
    if all(a is A.CERTIFIED for a in considered):
        return S.APPROVED
    if A.MODIFIED in considered and A.NOT_CERTIFIED not in considered and A.PARTIAL not in considered:
        return S.MODIFIED
    return S.PARTIALLY_APPROVED
