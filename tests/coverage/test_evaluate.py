"""Every rule feature, table-driven: a case that triggers it and one that does not."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from app.coverage import evaluate as evaluation
from app.coverage.evaluate import ItemFacts, evaluate, rule_matches
from app.domain.codes import AuthorizationKind, ReviewAction
from tests.coverage.builders import CPT, facts, item, payer_rules

R = '[[rule]]\nid = "r"\n'

CASES: list[tuple[str, str, ItemFacts, str, str]] = [
    # (name, rule body, facts, expected covered, expected pa-needed)
    ("exact code", R + 'codes = ["E0193"]', facts(item("E0193")), "covered", "auth-needed"),
    ("exact code, other code", R + 'codes = ["E0193"]', facts(item("E0194")), "conditional", "conditional"),
    ("range", R + 'codes = ["L5856-L5987"]', facts(item("L5900")), "covered", "auth-needed"),
    ("range, outside", R + 'codes = ["L5856-L5987"]', facts(item("L5988")), "conditional", "conditional"),
    ("service type", R + 'service_types = ["3"]', facts(item("99999", category="3")), "covered", "auth-needed"),
    (
        "service type, other",
        R + 'service_types = ["3"]',
        facts(item("99999", category="1")),
        "conditional",
        "conditional",
    ),
    (
        "cpt rule, cpt item",
        R + 'system = "cpt"\ncodes = ["64612"]',
        facts(item("64612", system=CPT)),
        "covered",
        "auth-needed",
    ),
    (
        "cpt rule, hcpcs item",
        R + 'system = "cpt"\ncodes = ["64612"]',
        facts(item("64612")),
        "conditional",
        "conditional",
    ),
    (
        "place of service",
        R + 'codes = ["E0193"]\nwhen.place_of_service = ["22"]',
        facts(item(pos="22")),
        "covered",
        "auth-needed",
    ),
    (
        "place of service, other",
        R + 'codes = ["E0193"]\nwhen.place_of_service = ["22"]',
        facts(item(pos="11")),
        "conditional",
        "conditional",
    ),
    (
        "diagnosis prefix",
        R + 'codes = ["E0193"]\nwhen.diagnosis = ["M54.*"]',
        facts(diagnoses=("M54.50",)),
        "covered",
        "auth-needed",
    ),
    (
        "diagnosis, other",
        R + 'codes = ["E0193"]\nwhen.diagnosis = ["M54.*"]',
        facts(diagnoses=("G89.4",)),
        "conditional",
        "conditional",
    ),
    (
        "quantity over",
        R + 'codes = ["E0193"]\nwhen.quantity_over = 2',
        facts(item(quantity="3")),
        "covered",
        "auth-needed",
    ),
    (
        "quantity not over",
        R + 'codes = ["E0193"]\nwhen.quantity_over = 2',
        facts(item(quantity="2")),
        "conditional",
        "conditional",
    ),
    (
        "out of network",
        R + 'codes = ["E0193"]\nwhen.network = "out"',
        facts(npis=("9999999991",)),
        "covered",
        "auth-needed",
    ),
    (
        "in network",
        R + 'codes = ["E0193"]\nwhen.network = "out"',
        facts(npis=("1234567893",)),
        "conditional",
        "conditional",
    ),
    ("age over min", R + 'codes = ["E0193"]\nwhen.age_min = 65', facts(age=70), "covered", "auth-needed"),
    ("age under min", R + 'codes = ["E0193"]\nwhen.age_min = 65', facts(age=64), "conditional", "conditional"),
    ("age under max", R + 'codes = ["E0193"]\nwhen.age_max = 17', facts(age=12), "covered", "auth-needed"),
    ("age over max", R + 'codes = ["E0193"]\nwhen.age_max = 17', facts(age=18), "conditional", "conditional"),
    (
        "kind",
        R + 'codes = ["E0193"]\nwhen.kinds = ["retrospective"]',
        facts(kind=AuthorizationKind.RETROSPECTIVE),
        "covered",
        "auth-needed",
    ),
    ("kind, other", R + 'codes = ["E0193"]\nwhen.kinds = ["retrospective"]', facts(), "conditional", "conditional"),
    (
        "specialty",
        R + 'codes = ["E0193"]\nwhen.specialty = ["207X00000X"]',
        facts(specialties=("207X00000X",)),
        "covered",
        "auth-needed",
    ),
    (
        "specialty, other",
        R + 'codes = ["E0193"]\nwhen.specialty = ["207X00000X"]',
        facts(specialties=("208D00000X",)),
        "conditional",
        "conditional",
    ),
    ("effective", R + 'codes = ["E0193"]\neffective_from = 2030-01-01', facts(), "covered", "auth-needed"),
    ("not yet effective", R + 'codes = ["E0193"]\neffective_from = 2031-01-01', facts(), "conditional", "conditional"),
    ("no longer effective", R + 'codes = ["E0193"]\neffective_to = 2029-12-31', facts(), "conditional", "conditional"),
    ("not required", R + 'codes = ["E0193"]\nauthorization = "not-required"', facts(), "covered", "no-auth"),
    (
        "performing provider",
        R + 'codes = ["E0193"]\nauthorization = "performing-provider"',
        facts(),
        "covered",
        "performpa",
    ),
    ("conditional coverage", R + 'codes = ["E0193"]\ncoverage = "conditional"', facts(), "conditional", "auth-needed"),
    (
        "not covered",
        R + 'codes = ["E0193"]\ncoverage = "not-covered"\nreason = "excluded"',
        facts(),
        "not-covered",
        "no-auth",
    ),
]


@pytest.mark.parametrize(("name", "body", "item_facts", "covered", "pa"), CASES, ids=[c[0] for c in CASES])
def test_rule_feature(name: str, body: str, item_facts: ItemFacts, covered: str, pa: str) -> None:
    determination = evaluate(payer_rules(body), item_facts)
    assert (determination.covered, determination.pa_needed) == (covered, pa)


def test_first_matching_rule_wins() -> None:
    rules = payer_rules(
        '[[rule]]\nid = "a"\ncodes = ["E0193"]\nauthorization = "not-required"\n'
        '[[rule]]\nid = "b"\ncodes = ["E0100-E0200"]\n'
    )
    assert evaluate(rules, facts(item("E0193"))).rule_id == "a"
    assert evaluate(rules, facts(item("E0194"))).rule_id == "b"


@pytest.mark.parametrize(
    ("body", "settled"),
    [
        ('authorization = "not-required"', ReviewAction.NO_ACTION_REQUIRED),
        ('coverage = "not-covered"\nreason = "excluded"', ReviewAction.NOT_CERTIFIED),
        ('authorization = "required"', None),
        ('coverage = "conditional"\nauthorization = "required"', None),
    ],
)
def test_settled_decisions(body: str, settled: ReviewAction | None) -> None:
    assert evaluate(payer_rules(R + 'codes = ["E0193"]\n' + body), facts()).settled is settled


@pytest.mark.parametrize(
    ("documents", "expected"),
    [
        ([], None),
        (["clinical"], "clinical"),
        (["administrative"], "admin"),
        (["clinical", "administrative"], "both"),
    ],
)
def test_documentation_needed(documents: list[str], expected: str | None) -> None:
    body = (
        R
        + 'codes = ["E0193"]\n'
        + "".join(
            f'[[rule.documentation]]\nkind = "{kind}"\ncode = "c{n}"\ntext = "doc {n}"\n'
            for n, kind in enumerate(documents)
        )
    )
    assert evaluate(payer_rules(body), facts()).doc_needed == expected


def test_referral_validity_windows_and_retro_window_come_from_the_rule_over_defaults() -> None:
    rules = payer_rules(
        "[defaults]\nstandard_window_days = 7\nexpedited_window_hours = 72\n"
        "validity_days = 90\nretro_window_days = 30\n"
        + R
        + 'codes = ["E0193"]\nreferral = true\nvalidity_days = 120\nstandard_window_days = 5\n'
    )
    found = evaluate(rules, facts())
    assert found.referral
    assert (found.clocks.validity_days, found.clocks.standard_window_days) == (120, 5)
    assert (found.clocks.expedited_window_hours, found.clocks.retro_window_days) == (72, 30)


GOLD = (
    R
    + 'codes = ["L1851"]\n[[gold_card]]\nnpi = "1111111112"\ncodes = ["L1800-L1899"]\n'
    + "effective_from = 2030-01-01\neffective_to = 2030-12-31\n"
)


@pytest.mark.parametrize(
    ("npis", "day", "gold"),
    [
        (("1111111112",), date(2030, 5, 10), True),
        (("1234567893",), date(2030, 5, 10), False),  # another provider
        (("1111111112",), date(2031, 1, 1), False),  # after the card expired
    ],
)
def test_gold_card(npis: tuple[str, ...], day: date, gold: bool) -> None:
    found = evaluate(payer_rules(GOLD), replace(facts(item("L1851"), npis=npis), service_date=day))
    assert found.gold_card is gold
    assert found.pa_needed == ("no-auth" if gold else "auth-needed")
    assert (found.reason or "").startswith("gold-card") is gold


def test_a_payer_without_rules_leaves_everything_to_the_payer() -> None:
    found = evaluate(None, facts())
    assert (found.covered, found.pa_needed, found.settled) == ("conditional", "conditional", None)


MANY = (
    '[[rule]]\nid = "exact"\ncodes = ["E0193", "e0194"]\n'
    '[[rule]]\nid = "range"\ncodes = ["L5856-L5987"]\nauthorization = "not-required"\n'
    '[[rule]]\nid = "typed"\nservice_types = ["3"]\n'
    '[[rule]]\nid = "cpt"\nsystem = "cpt"\ncodes = ["64612"]\n'
    '[[rule]]\nid = "late"\ncodes = ["E0193", "K0001"]\nwhen.place_of_service = ["22"]\n'
)
ITEMS = [
    item("E0193"),
    item("e0193", pos="22"),
    item("E0194"),
    item("L5900", pos="22"),
    item("L5988"),
    item("99999", category="3"),
    item("E0193", category="3"),
    item("64612", system=CPT),
    item("64612"),
    item("K0001", pos="22"),
    item("K0001"),
    item("A9270"),
]


def first_matching_rule(body: str, found: ItemFacts) -> str | None:
    """What evaluate decides, found the slow way: every rule tried in file order."""
    payer = payer_rules(body)
    for rule, specs in zip(payer.rules.rule, payer.specs, strict=True):
        if rule_matches(rule, specs, found, payer.rules.in_network):
            return rule.id
    return None


@pytest.mark.parametrize("kept", [evaluation.CANDIDATES_KEPT, 0])
def test_rules_remembered_per_code_decide_as_trying_every_rule_would(
    kept: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(evaluation, "CANDIDATES_KEPT", kept)  # 0: nothing remembered, worked out each time
    payer = payer_rules(MANY)
    for _ in range(2):  # the second time from what the first remembered
        for one in ITEMS:
            assert evaluate(payer, facts(one)).rule_id == first_matching_rule(MANY, facts(one)), one
