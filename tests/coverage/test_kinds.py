"""The kinds of authorization against the rules: prior, concurrent, retrospective, referral, specialty, urgent."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.coverage.assessment import assess
from app.coverage.findings import FindingKind
from app.domain.clocks import DecisionWindows, decision_due
from app.domain.codes import AuthorizationKind, Priority, ReviewAction
from app.domain.facts import BundleFacts
from tests.coverage.builders import item, payer_rules, request

RULES = payer_rules(
    "[defaults]\nretro_window_days = 30\nstandard_window_days = 7\nexpedited_window_hours = 72\nvalidity_days = 90\n"
    '[[rule]]\nid = "retro-only"\ncodes = ["E0100"]\nwhen.kinds = ["retrospective"]\ncoverage = "not-covered"\n'
    'reason = "no retrospective requests for E0100"\n'
    '[[rule]]\nid = "specialty"\ncodes = ["E0200"]\nwhen.kinds = ["specialty"]\nauthorization = "not-required"\n'
    '[[rule]]\nid = "referral"\ncodes = ["E0300"]\nreferral = true\n'
    '[[rule]]\nid = "dme"\ncodes = ["E0193"]\nstandard_window_days = 5\nexpedited_window_hours = 48\n'
    "validity_days = 120\n"
)
TODAY = date(2030, 5, 2)
CREATED = datetime(2030, 5, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kind", "code", "expected"),
    [
        (AuthorizationKind.RETROSPECTIVE, "E0100", ReviewAction.NOT_CERTIFIED),
        (AuthorizationKind.PRIOR, "E0100", None),
        (AuthorizationKind.SPECIALTY, "E0200", ReviewAction.NO_ACTION_REQUIRED),
        (AuthorizationKind.PRIOR, "E0200", None),
    ],
)
def test_rules_per_kind(kind: AuthorizationKind, code: str, expected: ReviewAction | None) -> None:
    served = date(2030, 4, 20) if kind is AuthorizationKind.RETROSPECTIVE else date(2030, 5, 10)
    found = assess(RULES, request(item(code, served=served), kind=kind, created=CREATED), BundleFacts(), today=TODAY)
    decision = found.rule_decisions().get(1)
    assert (decision.action if decision else None) is expected


@pytest.mark.parametrize(("served", "late"), [(date(2030, 3, 1), True), (date(2030, 4, 10), False)])
def test_retrospective_requests_are_checked_against_the_retro_window(served: date, late: bool) -> None:
    req = request(item("E0193", served=served), kind=AuthorizationKind.RETROSPECTIVE, created=CREATED)
    kinds = {f.kind for f in assess(RULES, req, BundleFacts(), today=TODAY).findings}
    assert (FindingKind.RETRO_WINDOW in kinds) is late


def test_the_retro_window_does_not_apply_to_prior_requests() -> None:
    req = request(item("E0193", served=date(2030, 1, 1)), kind=AuthorizationKind.PRIOR)
    assert FindingKind.RETRO_WINDOW not in {f.kind for f in assess(RULES, req, BundleFacts(), today=TODAY).findings}


@pytest.mark.parametrize(("referral", "finding"), [(False, True), (True, False)])
def test_referral_requirement_is_checked(referral: bool, finding: bool) -> None:
    req = request(item("E0300"), kind=AuthorizationKind.REFERRAL)
    kinds = {f.kind for f in assess(RULES, req, BundleFacts(referral_present=referral), today=TODAY).findings}
    assert (FindingKind.MISSING_REFERRAL in kinds) is finding


@pytest.mark.parametrize(
    ("priority", "window"),
    [(Priority.EXPEDITED, timedelta(hours=48)), (Priority.STANDARD, timedelta(days=5))],
)
def test_urgent_requests_get_the_rules_expedited_clock(priority: Priority, window: timedelta) -> None:
    assessment = assess(RULES, request(item("E0193"), priority=priority), BundleFacts(), today=TODAY)
    windows = assessment.windows(DecisionWindows())
    assert decision_due(CREATED, priority, windows) == CREATED + window
    assert assessment.approval_validity(timedelta(days=90)) == timedelta(days=120)


def test_without_a_matching_rule_the_payers_clocks_stand() -> None:
    assessment = assess(RULES, request(item("E0999")), BundleFacts(), today=TODAY)
    assert assessment.windows(DecisionWindows()) == DecisionWindows()
    assert assessment.approval_validity(timedelta(days=90)) == timedelta(days=90)


def test_concurrent_requests_skip_no_rule() -> None:
    req = request(item("E0193", certification="4"), kind=AuthorizationKind.CONCURRENT)
    assessment = assess(RULES, req, BundleFacts(preauth_refs=("AUTH-1",)), today=TODAY)
    assert assessment.determinations[1].rule_id == "dme"
    assert not assessment.settles(req)
