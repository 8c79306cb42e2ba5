"""Every pre-submission finding, table-driven: a request that triggers it and one that does not."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pytest

from app.coverage.assessment import assess
from app.coverage.findings import FindingKind
from app.domain.codes import AuthorizationKind
from app.domain.facts import BundleFacts
from app.domain.model import Period, PriorAuthRequest
from tests.coverage.builders import CPT, item, payer_rules, request

RULES = payer_rules(
    "[defaults]\nretro_window_days = 30\n"
    '[[rule]]\nid = "docs"\ncodes = ["E0193"]\n'
    '[[rule.documentation]]\nkind = "clinical"\ncode = "11506-3"\ntext = "Progress note"\n'
    '[[rule]]\nid = "referral"\ncodes = ["E0194"]\nreferral = true\n'
    '[[rule]]\nid = "excluded"\ncodes = ["A9270"]\ncoverage = "not-covered"\nreason = "excluded"\n'
)
TODAY = date(2030, 5, 2)
PAST = datetime(2030, 5, 2, tzinfo=UTC)


@dataclass
class Case:
    kind: FindingKind
    triggers: PriorAuthRequest
    clean: PriorAuthRequest
    facts: BundleFacts = field(default_factory=BundleFacts)
    clean_facts: BundleFacts | None = None
    duplicates: Mapping[int, str] = field(default_factory=dict)


CASES = [
    Case(FindingKind.MALFORMED_CODE, request(item("E019")), request(item("E0193"))),
    Case(FindingKind.MALFORMED_CODE, request(item("A9271", system=CPT)), request(item("99213", system=CPT))),
    Case(FindingKind.MALFORMED_CODE, request(diagnoses=((1, "12.34"),)), request(diagnoses=((1, "G89.4"),))),
    Case(FindingKind.DIAGNOSIS_POINTER, request(item(diagnoses=(2,))), request(item(diagnoses=(1,)))),
    Case(
        FindingKind.MISSING_DOCUMENTATION,
        request(item("E0193")),
        request(item("E0193")),
        clean_facts=BundleFacts(document_codes=frozenset({"11506-3"})),
    ),
    Case(FindingKind.NOT_COVERED, request(item("A9270")), request(item("E0193"))),
    Case(
        FindingKind.MISSING_REFERRAL,
        request(item("E0194")),
        request(item("E0194")),
        clean_facts=BundleFacts(referral_present=True),
    ),
    Case(
        FindingKind.OUTSIDE_COVERAGE,
        request(item(served=date(2031, 2, 1))),
        request(item(served=date(2030, 6, 1))),
        facts=BundleFacts(coverage_period=Period(date(2030, 1, 1), date(2030, 12, 31))),
        clean_facts=BundleFacts(coverage_period=Period(date(2030, 1, 1), date(2030, 12, 31))),
    ),
    Case(
        FindingKind.RETRO_WINDOW,
        request(item(served=date(2030, 3, 1)), kind=AuthorizationKind.RETROSPECTIVE, created=PAST),
        request(item(served=date(2030, 4, 20)), kind=AuthorizationKind.RETROSPECTIVE, created=PAST),
    ),
    Case(FindingKind.DUPLICATE, request(item()), request(item()), duplicates={1: "AUTH-1"}),
]


def _kinds(req: PriorAuthRequest, facts: BundleFacts, duplicates: Mapping[int, str]) -> set[FindingKind]:
    return {f.kind for f in assess(RULES, req, facts, today=TODAY, duplicates=duplicates).findings}


@pytest.mark.parametrize("case", CASES, ids=[f"{c.kind.value}-{n}" for n, c in enumerate(CASES)])
def test_finding_is_raised_only_when_the_request_triggers_it(case: Case) -> None:
    assert case.kind in _kinds(case.triggers, case.facts, case.duplicates)
    clean_facts = case.clean_facts if case.clean_facts is not None else case.facts
    assert case.kind not in _kinds(case.clean, clean_facts, {})


def test_findings_name_the_element_with_a_fhirpath_expression() -> None:
    found = assess(RULES, request(item("E019", diagnoses=(2,))), BundleFacts(), today=TODAY).findings
    expressions = {f.kind: f.expression for f in found}
    assert expressions[FindingKind.MALFORMED_CODE] == "Bundle.entry[0].resource.item[0].productOrService"
    assert expressions[FindingKind.DIAGNOSIS_POINTER] == "Bundle.entry[0].resource.item[0].diagnosisSequence[0]"
    issue = found[0].issue("error")
    assert (issue.severity, issue.expression) == ("error", "Bundle.entry[0].resource.item[0].productOrService")


def test_submit_leaves_not_covered_to_the_decision() -> None:
    assessment = assess(RULES, request(item("A9270")), BundleFacts(), today=TODAY)
    assert FindingKind.NOT_COVERED not in {f.kind for f in assessment.submit_findings()}
    decision = assessment.rule_decisions()[1]
    assert (decision.action.value, decision.reason_text) == ("A3", "excluded")
