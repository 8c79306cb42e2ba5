"""The authorization aggregate: each event's effect on status, items, clocks, version and what it reports."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.domain.authorization import Authorization, Change, Item
from app.domain.codes import AuthorizationStatus as S
from app.domain.codes import ReviewAction as A
from app.domain.lifecycle import Event, InvalidTransition
from app.domain.model import Coding, ItemDecision, PayerReply, Period, ServiceItem

NOW = datetime(2030, 1, 2, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
VALIDITY = timedelta(days=90)


def _new(*codes: str) -> Authorization:
    items = [ServiceItem(n, Coding("https://hcpcs", code)) for n, code in enumerate(codes or ("E0470",), 1)]
    authorization, _ = Authorization.received(items, now=NOW, due_at=NOW + timedelta(days=7))
    return authorization


def _answer(authorization: Authorization, *actions: A, keep_final: bool = False, at: datetime = LATER) -> Change:
    decisions = {n: ItemDecision(n, action) for n, action in enumerate(actions, 1)}
    return authorization.answer(
        decisions, now=at, timeline_type="payer-answered", approval_validity=VALIDITY, keep_final=keep_final
    )


@pytest.mark.parametrize(
    ("actions", "status"),
    [
        ((A.CERTIFIED,), S.APPROVED),
        ((A.NOT_CERTIFIED,), S.DENIED),
        ((A.PARTIAL,), S.PARTIALLY_APPROVED),
        ((A.MODIFIED,), S.MODIFIED),
        ((A.NO_ACTION_REQUIRED,), S.NOT_REQUIRED),
        ((A.PENDED,), S.PENDED),
        ((A.CANCELLED,), S.CANCELLED),
    ],
)
def test_an_answer_rolls_the_items_up_and_reports_the_transition(actions: tuple[A, ...], status: S) -> None:
    authorization = _new()
    change = authorization.answer(
        {1: ItemDecision(1, actions[0])},
        now=LATER,
        timeline_type="payer-answered",
        approval_validity=VALIDITY,
        reply=PayerReply(decisions=(), payer_reference="P-1", preauth_ref="AUTH-1"),
    )
    assert (change.before, change.after, authorization.status) == (S.RECEIVED, status, status)
    assert authorization.version == 2
    assert authorization.updated_at == LATER
    assert [(e.type, e.from_status, e.to_status) for e in change.timeline] == [("payer-answered", S.RECEIVED, status)]
    assert change.notifications == (f"authorization.{status.value}",)
    assert (authorization.payer_reference, authorization.preauth_ref) == ("P-1", "AUTH-1")
    assert (authorization.decided_at is None) is status.is_open


def test_an_approval_expires_at_the_end_of_its_authorized_period_or_after_the_validity() -> None:
    authorization = _new("E0470", "E0250")
    period = Period(date(2030, 1, 1), date(2030, 3, 31))
    change = authorization.answer(
        {1: ItemDecision(1, A.CERTIFIED, authorized_period=period), 2: ItemDecision(2, A.CERTIFIED)},
        now=LATER,
        timeline_type="payer-answered",
        approval_validity=VALIDITY,
    )
    assert change.expiry_moved
    assert authorization.expires_at == datetime(2030, 3, 31, 23, 59, 59, 999999, tzinfo=UTC)
    without = _new()
    _answer(without, A.CERTIFIED)
    assert without.expires_at is not None
    assert without.expires_at.date() == NOW.date() + VALIDITY


def test_a_follow_up_keeps_final_decisions_and_staying_pended_reports_no_notification() -> None:
    authorization = _new("E0470", "E0486")
    _answer(authorization, A.CERTIFIED, A.PENDED)
    change = _answer(authorization, A.NOT_CERTIFIED, A.PENDED, keep_final=True, at=LATER + timedelta(hours=1))
    assert authorization.items[0].action is A.CERTIFIED
    assert change.notifications == ()
    assert authorization.status is S.PENDED
    assert authorization.version == 3


def test_a_cancelled_item_stays_cancelled_whatever_the_payer_answers() -> None:
    authorization = _new("E0470", "E0486")
    authorization.items[1].cancelled = True
    _answer(authorization, A.CERTIFIED, A.CERTIFIED)
    assert [i.action for i in authorization.items] == [A.CERTIFIED, A.CANCELLED]
    assert authorization.decisions()[2].action is A.CANCELLED


def test_cancel_keeps_the_decision_time_and_cancels_every_item() -> None:
    authorization = _new("E0470", "E0486")
    _answer(authorization, A.CERTIFIED, A.CERTIFIED)
    decided = authorization.decided_at
    change = authorization.cancel(now=LATER + timedelta(days=1))
    assert change.after is S.CANCELLED
    assert authorization.decided_at == decided
    assert all(item.action is A.CANCELLED for item in authorization.items)
    with pytest.raises(InvalidTransition):
        authorization.cancel(now=LATER + timedelta(days=2))


def test_rejection_only_while_open() -> None:
    authorization = _new()
    change = authorization.reject(now=LATER)
    assert (change.before, change.after) == (S.RECEIVED, S.ERROR)
    assert change.notifications == ("authorization.error",)
    approved = _new()
    _answer(approved, A.CERTIFIED)
    with pytest.raises(InvalidTransition):
        approved.reject(now=LATER)


def test_expiry_only_of_approvals_and_it_is_final() -> None:
    approved = _new()
    _answer(approved, A.MODIFIED)
    change = approved.expire(now=LATER + VALIDITY)
    assert (change.before, change.after, approved.version) == (S.MODIFIED, S.EXPIRED, 3)
    for event in (approved.expire, approved.reject, approved.cancel):
        with pytest.raises(InvalidTransition):
            event(now=LATER + VALIDITY)
    pended = _new()
    _answer(pended, A.PENDED)
    assert not pended.can(Event.EXPIRED, S.EXPIRED)
    with pytest.raises(InvalidTransition):
        pended.expire(now=LATER)


def test_clock_events_change_no_status_but_move_the_version() -> None:
    authorization = _new()
    overdue = authorization.overdue(now=LATER)
    assert (overdue.after, overdue.notifications, authorization.version) == (S.RECEIVED, ("authorization.overdue",), 2)
    expiring = authorization.expiring(now=LATER)
    assert (expiring.notifications, authorization.version) == (("authorization.expiring",), 3)


def test_replacing_keeps_the_status_and_is_refused_for_final_ones() -> None:
    authorization = _new()
    change = authorization.replace(now=LATER, by="new-id")
    assert (change.after, authorization.status, authorization.replaced) == (S.RECEIVED, S.RECEIVED, True)
    assert authorization.version == 2
    assert change.timeline[0].detail == {"by": "new-id"}
    denied = _new()
    _answer(denied, A.NOT_CERTIFIED)
    with pytest.raises(InvalidTransition):
        denied.replace(now=LATER, by="x")


def test_an_update_carries_earlier_items_it_does_not_name_with_their_decisions() -> None:
    earlier = [Item(1, Coding(None, "E0470"), decision=ItemDecision(1, A.CERTIFIED)), Item(2, Coding(None, "E0486"))]
    authorization, change = Authorization.received(
        [ServiceItem(2, Coding(None, "E0487"))], now=NOW, due_at=None, earlier=earlier
    )
    assert [(i.sequence, i.service.code, i.action) for i in authorization.items] == [
        (1, "E0470", A.CERTIFIED),
        (2, "E0487", A.PENDED),
    ]
    assert change.notifications == ("authorization.received",)


# --- appeals ---------------------------------------------------------------------------------

APPEALED = LATER + timedelta(days=3)


@pytest.mark.parametrize(
    ("actions", "appealable"),
    [
        ((A.NOT_CERTIFIED,), True),
        ((A.CERTIFIED, A.NOT_CERTIFIED), True),  # partially approved
        ((A.MODIFIED,), True),
        ((A.CERTIFIED,), False),
        ((A.NO_ACTION_REQUIRED,), False),
        ((A.PENDED,), False),
    ],
)
def test_only_a_decision_against_the_practice_is_appealed(actions: tuple[A, ...], appealable: bool) -> None:
    authorization = _new(*(f"E0{n}00" for n in range(1, len(actions) + 1)))
    _answer(authorization, *actions)
    before, version = authorization.status, authorization.version
    if not appealable:
        with pytest.raises(InvalidTransition):
            authorization.appeal(now=APPEALED)
        assert (authorization.status, authorization.version) == (before, version)
        return
    change = authorization.appeal(now=APPEALED, detail={"appeal_id": "a-1"})
    assert (change.before, change.after) == (before, S.APPEAL_SUBMITTED)
    assert change.notifications == ("authorization.appeal-submitted",)
    assert [(e.type, e.from_status, e.to_status) for e in change.timeline] == [
        ("appeal-submitted", before, S.APPEAL_SUBMITTED)
    ]
    assert authorization.version == version + 1
    assert [i.action for i in authorization.items] == list(actions)  # the decisions stand while appealed


def test_an_overturned_appeal_certifies_what_was_not_and_starts_the_validity_at_the_appeal_decision() -> None:
    authorization = _new("E0100", "E0200", "E0300")
    _answer(authorization, A.CERTIFIED, A.NOT_CERTIFIED, A.NO_ACTION_REQUIRED)
    authorization.appeal(now=APPEALED)
    decided_at = authorization.decided_at
    change = authorization.decide_appeal(approved=True, now=APPEALED + timedelta(days=1), approval_validity=VALIDITY)
    assert (change.after, change.notifications, change.expiry_moved) == (
        S.APPEAL_APPROVED,
        ("authorization.appeal-approved",),
        True,
    )
    assert [i.action for i in authorization.items] == [A.CERTIFIED, A.CERTIFIED, A.NO_ACTION_REQUIRED]
    assert authorization.decided_at == decided_at  # the first decision's time is kept for the report
    start = (APPEALED + timedelta(days=1)).date()
    assert authorization.expires_at == datetime.combine(start + VALIDITY, datetime.max.time(), tzinfo=UTC)


def test_an_overturned_appeal_takes_the_payers_decisions_when_it_gives_them() -> None:
    authorization = _new("E0100", "E0200")
    _answer(authorization, A.NOT_CERTIFIED, A.NOT_CERTIFIED)
    authorization.appeal(now=APPEALED)
    given = ItemDecision(
        1, A.PARTIAL, authorization_number="N-1", authorized_period=Period(date(2030, 2, 1), date(2030, 3, 1))
    )
    authorization.decide_appeal(approved=True, now=APPEALED, approval_validity=VALIDITY, decisions={1: given})
    assert [i.action for i in authorization.items] == [A.PARTIAL, A.NOT_CERTIFIED]
    assert authorization.expires_at == datetime.combine(date(2030, 3, 1), datetime.max.time(), tzinfo=UTC)


def test_an_upheld_appeal_is_final_and_leaves_the_decisions() -> None:
    authorization = _new()
    _answer(authorization, A.NOT_CERTIFIED)
    authorization.appeal(now=APPEALED)
    change = authorization.decide_appeal(approved=False, now=APPEALED, approval_validity=VALIDITY)
    assert (change.after, change.expiry_moved, authorization.expires_at) == (S.APPEAL_DENIED, False, None)
    assert [i.action for i in authorization.items] == [A.NOT_CERTIFIED]
    with pytest.raises(InvalidTransition):
        authorization.appeal(now=APPEALED)
    with pytest.raises(InvalidTransition):
        authorization.decide_appeal(approved=True, now=APPEALED, approval_validity=VALIDITY)
    assert not authorization.can(Event.CANCELLED, S.CANCELLED)


def test_peer_to_peer_and_the_appeal_deadline_are_timeline_events_that_keep_the_status() -> None:
    authorization = _new()
    _answer(authorization, A.NOT_CERTIFIED)
    authorization.appeal(now=APPEALED)
    version = authorization.version
    requested = authorization.peer_to_peer(False, now=APPEALED)
    held = authorization.peer_to_peer(True, now=APPEALED)
    overdue = authorization.appeal_overdue(now=APPEALED, due_at=APPEALED)
    assert [c.timeline[0].type for c in (requested, held, overdue)] == [
        "peer-to-peer-requested",
        "peer-to-peer-held",
        "appeal-overdue",
    ]
    assert [c.notifications for c in (requested, held, overdue)] == [
        ("authorization.peer-to-peer-requested",),
        ("authorization.peer-to-peer-held",),
        ("authorization.appeal-overdue",),
    ]
    assert all(not c.status_changed for c in (requested, held, overdue))
    assert (authorization.status, authorization.version) == (S.APPEAL_SUBMITTED, version + 3)
