from __future__ import annotations

import pytest

from app.domain.codes import AuthorizationStatus as S
from app.domain.codes import ReviewAction as A
from app.domain.lifecycle import InvalidTransition, accepts_updates, can_transition, check_transition, roll_up


@pytest.mark.parametrize(
    ("actions", "expected"),
    [
        ([], S.RECEIVED),
        ([A.CERTIFIED], S.APPROVED),
        ([A.CERTIFIED, A.CERTIFIED], S.APPROVED),
        ([A.NOT_CERTIFIED], S.DENIED),
        ([A.NOT_CERTIFIED, A.NOT_CERTIFIED], S.DENIED),
        ([A.CERTIFIED, A.NOT_CERTIFIED], S.PARTIALLY_APPROVED),
        ([A.PARTIAL], S.PARTIALLY_APPROVED),
        ([A.MODIFIED], S.MODIFIED),
        ([A.MODIFIED, A.CERTIFIED], S.MODIFIED),
        ([A.MODIFIED, A.NOT_CERTIFIED], S.PARTIALLY_APPROVED),
        ([A.CERTIFIED, A.PENDED], S.PENDED),
        ([A.CONTACT_PAYER], S.PENDED),
        ([A.NO_ACTION_REQUIRED], S.NOT_REQUIRED),
        ([A.NO_ACTION_REQUIRED, A.CERTIFIED], S.APPROVED),
        ([A.NO_ACTION_REQUIRED, A.NOT_CERTIFIED], S.DENIED),
        ([A.CANCELLED], S.CANCELLED),
        ([A.CANCELLED, A.CERTIFIED], S.APPROVED),
        ([A.CANCELLED, A.PENDED], S.PENDED),
    ],
)
def test_roll_up(actions: list[A], expected: S) -> None:
    assert roll_up(actions) is expected


@pytest.mark.parametrize("final", [S.CANCELLED, S.EXPIRED, S.APPEAL_DENIED])
def test_final_statuses_take_no_change(final: S) -> None:
    assert not accepts_updates(final)
    for target in S:
        if target is not final:
            assert not can_transition(final, target)
            with pytest.raises(InvalidTransition):
                check_transition(final, target)


def test_staying_put_is_always_allowed() -> None:
    for status in S:
        check_transition(status, status)


def test_a_denial_takes_no_update_and_changes_only_by_appeal() -> None:
    assert not accepts_updates(S.DENIED)
    assert {target for target in S if target is not S.DENIED and can_transition(S.DENIED, target)} == {
        S.APPEAL_SUBMITTED
    }
