"""Drug and expedited decision clocks: which items are drugs, and the due time of a request (the earliest
of its open items, each by its kind, with rules, state and plan-type overrides)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.coverage.assessment import assess
from app.coverage.codes import CPT, HCPCS
from app.coverage.drugs import NDC, RXNORM, is_drug
from app.domain.clocks import DecisionWindows
from app.domain.codes import Priority
from app.domain.facts import BundleFacts
from app.payers.config import PayerConfig
from tests.coverage.builders import item, payer_rules, request

RECEIVED = datetime(2030, 5, 2, 12, 0, tzinfo=UTC)
PAYER = DecisionWindows()  # the payers file's defaults: 72 h / 7 days, drugs 24 h / 72 h


@pytest.mark.parametrize(
    ("code", "system", "category", "drug"),
    [
        ("00074-4339-02", NDC, None, True),
        ("1657063", RXNORM, None, True),
        ("J9035", HCPCS, None, True),  # HCPCS J-code: drug administered other than by mouth
        ("J9035", CPT, None, False),  # not a CPT code: the system decides
        ("E0193", HCPCS, None, False),
        ("99212", CPT, "88", True),  # pharmacy service type
        ("99212", CPT, "1", False),
    ],
)
def test_an_item_is_a_drug_by_ndc_rxnorm_j_code_or_pharmacy_category(
    code: str, system: str, category: str | None, drug: bool
) -> None:
    assert is_drug(item(code, system=system, category=category)) is drug


def _due(body: str, *codes: str, priority: Priority, facts: BundleFacts = BundleFacts()) -> timedelta:
    rules = payer_rules(body) if body else None
    items = tuple(item(code, sequence=n) for n, code in enumerate(codes, 1))
    found = assess(rules, request(*items, priority=priority), facts, today=date(2030, 5, 2))
    return found.decision_due(RECEIVED, priority, PAYER) - RECEIVED


@pytest.mark.parametrize(
    ("codes", "priority", "window"),
    [
        (("E0470",), Priority.EXPEDITED, timedelta(hours=72)),
        (("E0470",), Priority.STANDARD, timedelta(days=7)),
        (("J9035",), Priority.EXPEDITED, timedelta(hours=24)),
        (("J9035",), Priority.STANDARD, timedelta(hours=72)),
        (("E0470", "J9035"), Priority.STANDARD, timedelta(hours=72)),  # the earliest applicable
    ],
)
def test_the_due_time_is_the_earliest_of_the_items_by_kind(
    codes: tuple[str, ...], priority: Priority, window: timedelta
) -> None:
    assert _due("", *codes, priority=priority) == window


def test_rules_files_override_the_drug_clocks_per_payer_state_and_rule_and_exempt_plan_types() -> None:
    body = (
        'drug_clock_exempt_plan_types = ["EHCPOL"]\n'
        "[defaults]\ndrug_expedited_window_hours = 12\n"
        '[[state_clocks]]\nstates = ["TX"]\nsource = "a state law"\ndrug_expedited_window_hours = 6\n'
        '[[rule]]\nid = "chemo"\ncodes = ["J9045"]\ndrug_expedited_window_hours = 2\n'
    )
    expedited = Priority.EXPEDITED
    assert _due(body, "J9035", priority=expedited) == timedelta(hours=12)  # the payer's [defaults]
    texas = BundleFacts(service_state="TX")
    assert _due(body, "J9035", priority=expedited, facts=texas) == timedelta(hours=6)  # the state's law
    assert _due(body, "J9045", priority=expedited, facts=texas) == timedelta(hours=2)  # the rule's own
    employer = BundleFacts(plan_type="EHCPOL")
    assert _due(body, "J9035", priority=expedited, facts=employer) == timedelta(hours=72)  # medical clock


def test_the_payers_file_sets_a_payers_drug_windows() -> None:
    payer = PayerConfig(id="medicaid", adapter="sandbox", drug_expedited_window_hours=12, drug_standard_window_hours=48)
    windows = payer.windows
    assert windows.for_item(Priority.EXPEDITED, drug=True) == timedelta(hours=12)
    assert windows.for_item(Priority.STANDARD, drug=True) == timedelta(hours=48)
    assert windows.for_item(Priority.EXPEDITED, drug=False) == timedelta(hours=72)
    assert _due_with(windows, "J9035") == timedelta(hours=48)


def _due_with(windows: DecisionWindows, code: str) -> timedelta:
    found = assess(None, request(item(code)), BundleFacts(), today=date(2030, 5, 2))
    return found.decision_due(RECEIVED, Priority.STANDARD, windows) - RECEIVED
