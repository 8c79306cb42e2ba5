"""Status roll-up and the validated state machine of an authorization."""

from __future__ import annotations

from collections.abc import Iterable

from app.domain.codes import AuthorizationStatus as S
from app.domain.codes import ReviewAction as A

_DECIDED = frozenset({S.APPROVED, S.PARTIALLY_APPROVED, S.MODIFIED, S.NOT_REQUIRED})
_REOPENABLE = frozenset({S.PENDED, S.DENIED, S.ERROR, *_DECIDED})

# Which status may follow which. A denied, cancelled or expired request is final: it is
# not updated (the practice resubmits). Decided ones may be updated (items added, changed
# or cancelled), cancelled, or expire.
ALLOWED_TRANSITIONS: dict[S, frozenset[S]] = {
    S.RECEIVED: frozenset({S.PENDED, S.CANCELLED, *_REOPENABLE}),
    S.PENDED: frozenset({S.CANCELLED, *_REOPENABLE}),
    S.ERROR: frozenset({S.CANCELLED, *_REOPENABLE}),
    S.APPROVED: frozenset({S.CANCELLED, S.EXPIRED, *_REOPENABLE}),
    S.PARTIALLY_APPROVED: frozenset({S.CANCELLED, S.EXPIRED, *_REOPENABLE}),
    S.MODIFIED: frozenset({S.CANCELLED, S.EXPIRED, *_REOPENABLE}),
    S.NOT_REQUIRED: frozenset({S.CANCELLED, *_REOPENABLE}),
    S.DENIED: frozenset(),
    S.CANCELLED: frozenset(),
    S.EXPIRED: frozenset(),
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
    """Whether a PASClaimUpdate may change an authorization in this status."""
    return bool(ALLOWED_TRANSITIONS[status])


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
