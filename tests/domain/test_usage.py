"""`Authorization.use`: units counted against the authorized quantity, `exhausting` and `exhausted`
once each as the count crosses the threshold and the whole, the status never moved, and what is
not an approved item refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from app.domain.authorization import Authorization, UsageRefused
from app.domain.codes import AuthorizationStatus as S
from app.domain.codes import ReviewAction as A
from app.domain.model import Coding, ItemDecision, ServiceItem

NOW = datetime(2030, 1, 2, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
THRESHOLD = Decimal("0.8")


def _decided(action: A = A.CERTIFIED, *, requested: int = 10, authorized: int | None = None) -> Authorization:
    items = [ServiceItem(1, Coding("http://www.ama-assn.org/go/cpt", "97110"), quantity=Decimal(requested))]
    authorization, _ = Authorization.received(items, now=NOW, due_at=None)
    quantity = Decimal(authorized) if authorized is not None else None
    authorization.answer(
        {1: ItemDecision(1, action, authorized_quantity=quantity)},
        now=NOW,
        timeline_type="payer-answered",
        approval_validity=timedelta(days=90),
    )
    return authorization


@pytest.mark.parametrize(
    ("reports", "events"),
    [
        ((5, 2), [["units-used"], ["units-used"]]),
        ((5, 3), [["units-used"], ["units-used", "exhausting"]]),
        ((8, 2), [["units-used", "exhausting"], ["units-used", "exhausted"]]),
        ((10, 1), [["units-used", "exhausting", "exhausted"], ["units-used"]]),
        ((12, 1), [["units-used", "exhausting", "exhausted"], ["units-used"]]),
        ((7.9, 0.1), [["units-used"], ["units-used", "exhausting"]]),
    ],
)
def test_events_fire_once_as_the_count_crosses_the_threshold_and_the_whole(
    reports: tuple[float, float], events: list[list[str]]
) -> None:
    authorization = _decided()
    seen = [
        [entry.type for entry in authorization.use(1, Decimal(str(units)), now=LATER, threshold=THRESHOLD).timeline]
        for units in reports
    ]
    assert seen == events
    assert authorization.items[0].units_used == sum(Decimal(str(u)) for u in reports)
    assert authorization.status is S.APPROVED


def test_a_report_moves_the_version_and_notifies_only_the_crossings() -> None:
    authorization = _decided()
    quiet = authorization.use(1, Decimal(1), now=LATER, threshold=THRESHOLD)
    assert quiet.notifications == ()
    assert (quiet.before, quiet.after) == (S.APPROVED, S.APPROVED)
    assert authorization.version == 3
    loud = authorization.use(1, Decimal(9), now=LATER, threshold=THRESHOLD)
    assert loud.notifications == ("authorization.exhausting", "authorization.exhausted")
    assert loud.timeline[0].detail == {
        "item": 1,
        "units": "9",
        "used": "10",
        "authorized": "10",
        "remaining": "0",
        "over": False,
    }


def test_a_partial_approval_counts_against_the_units_it_granted() -> None:
    authorization = _decided(A.PARTIAL, requested=10, authorized=4)
    change = authorization.use(1, Decimal(4), now=LATER, threshold=THRESHOLD)
    assert [e.type for e in change.timeline] == ["units-used", "exhausting", "exhausted"]
    over = authorization.use(1, Decimal(1), now=LATER, threshold=THRESHOLD)
    assert over.timeline[0].detail is not None
    assert over.timeline[0].detail["over"] is True


@pytest.mark.parametrize("action", [A.NOT_CERTIFIED, A.PENDED, A.NO_ACTION_REQUIRED])
def test_what_is_not_an_approval_takes_no_usage(action: A) -> None:
    authorization = _decided(action)
    version = authorization.version
    with pytest.raises(UsageRefused):
        authorization.use(1, Decimal(1), now=LATER, threshold=THRESHOLD)
    assert authorization.version == version
    assert authorization.items[0].units_used == 0


def test_an_unknown_item_or_a_replaced_version_takes_no_usage() -> None:
    authorization = _decided()
    with pytest.raises(UsageRefused):
        authorization.use(2, Decimal(1), now=LATER, threshold=THRESHOLD)
    authorization.replace(now=LATER, by="update")
    with pytest.raises(UsageRefused):
        authorization.use(1, Decimal(1), now=LATER, threshold=THRESHOLD)


def test_an_approval_won_on_appeal_takes_usage_like_any_approval() -> None:
    authorization = _decided(A.NOT_CERTIFIED)
    with pytest.raises(UsageRefused):
        authorization.use(1, Decimal(1), now=LATER, threshold=THRESHOLD)
    authorization.appeal(now=LATER)
    authorization.decide_appeal(approved=True, now=LATER, approval_validity=timedelta(days=90))
    assert authorization.status is S.APPEAL_APPROVED
    change = authorization.use(1, Decimal(9), now=LATER, threshold=THRESHOLD)
    assert [entry.type for entry in change.timeline] == ["units-used", "exhausting"]
    assert authorization.status is S.APPEAL_APPROVED
