"""Pre-submission checks: what would likely get a request denied or delayed, found before it leaves.

Pure functions over the parsed request, its Bundle facts and the rules' determinations; the one
fact that needs storage (active authorizations that a request would duplicate) is looked up by
the caller and passed in. Every finding names the element with a FHIRPath expression.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from app.coverage.codes import malformed_reason
from app.coverage.evaluate import Determination
from app.domain.codes import AuthorizationKind
from app.domain.facts import BundleFacts
from app.domain.model import Period, PriorAuthRequest, ServiceItem
from app.errors import Issue, Severity

CLAIM = "Bundle.entry[0].resource"


class FindingKind(StrEnum):
    """The kinds of pre-submission finding."""

    MALFORMED_CODE = "malformed-code"
    DIAGNOSIS_POINTER = "diagnosis-pointer"
    MISSING_DOCUMENTATION = "missing-documentation"
    NOT_COVERED = "not-covered"
    MISSING_REFERRAL = "missing-referral"
    OUTSIDE_COVERAGE = "outside-coverage-period"
    RETRO_WINDOW = "retro-window-passed"
    DUPLICATE = "duplicate-authorization"


_ISSUE_CODE = {
    FindingKind.MALFORMED_CODE: "code-invalid",
    FindingKind.DIAGNOSIS_POINTER: "value",
    FindingKind.MISSING_DOCUMENTATION: "required",
    FindingKind.NOT_COVERED: "business-rule",
    FindingKind.MISSING_REFERRAL: "required",
    FindingKind.OUTSIDE_COVERAGE: "business-rule",
    FindingKind.RETRO_WINDOW: "business-rule",
    FindingKind.DUPLICATE: "duplicate",
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One likely reason for denial or delay, about one item (or the whole request when `sequence` is None)."""

    kind: FindingKind
    text: str
    expression: str
    sequence: int | None = None

    def issue(self, severity: Severity = "warning") -> Issue:
        """The finding as an OperationOutcome issue (text prefixed with its kind)."""
        return Issue(
            text=f"{self.kind.value}: {self.text}",
            code=_ISSUE_CODE[self.kind],
            severity=severity,
            expression=self.expression,
        )


def _item_path(position: int) -> str:
    return f"{CLAIM}.item[{position}]"


def code_findings(request: PriorAuthRequest) -> list[Finding]:
    """Malformed ICD-10-CM, HCPCS or CPT codes, and diagnosis pointers to no diagnosis."""
    found: list[Finding] = []
    for diagnosis in request.diagnoses:
        reason = malformed_reason(diagnosis.code.system, diagnosis.code.code)
        if reason is not None:
            where = f"{CLAIM}.diagnosis.where(sequence = {diagnosis.sequence}).diagnosisCodeableConcept"
            found.append(Finding(FindingKind.MALFORMED_CODE, reason, where))
    known = {d.sequence for d in request.diagnoses}
    for position, item in enumerate(request.items):
        product = item.product_or_service
        reason = malformed_reason(product.system, product.code)
        if reason is not None:
            found.append(
                Finding(FindingKind.MALFORMED_CODE, reason, f"{_item_path(position)}.productOrService", item.sequence)
            )
        for k, pointer in enumerate(item.diagnosis_sequences):
            if pointer not in known:
                text = (
                    f"item {item.sequence} points at diagnosis {pointer}, which the Claim does not carry (with a code)"
                )
                where = f"{_item_path(position)}.diagnosisSequence[{k}]"
                found.append(Finding(FindingKind.DIAGNOSIS_POINTER, text, where, item.sequence))
    return found


def _outside(served: Period, coverage: Period) -> bool:
    return any(day is not None and not coverage.contains(day) for day in (served.start, served.end))


def item_findings(
    position: int,
    item: ServiceItem,
    determination: Determination,
    request: PriorAuthRequest,
    facts: BundleFacts,
    today: date,
) -> list[Finding]:
    """What the rules and the Bundle say against one item."""
    path, sequence, code = _item_path(position), item.sequence, item.product_or_service.code
    found: list[Finding] = []
    if determination.covered == "not-covered":
        text = f"{code} is not covered: {determination.reason}"
        found.append(Finding(FindingKind.NOT_COVERED, text, f"{path}.productOrService", sequence))
    missing = [d for d in determination.documentation if d.code not in facts.document_codes]
    if missing and determination.pa_needed != "no-auth":
        needs = "; ".join(f"{d.kind}: {d.text} ({d.code})" for d in missing)
        found.append(
            Finding(FindingKind.MISSING_DOCUMENTATION, f"{code} needs {needs}", f"{CLAIM}.supportingInfo", sequence)
        )
    if determination.referral and not facts.referral_present:
        text = f"{code} needs a referral and the Claim carries none"
        found.append(Finding(FindingKind.MISSING_REFERRAL, text, f"{CLAIM}.referral", sequence))
    served = item.serviced
    if served is not None and facts.coverage_period is not None and _outside(served, facts.coverage_period):
        text = f"item {sequence}'s service dates fall outside the coverage period"
        found.append(Finding(FindingKind.OUTSIDE_COVERAGE, text, f"{path}.serviced", sequence))
    window = determination.clocks.retro_window_days
    last_day = served.end or served.start if served is not None else None
    if request.kind is AuthorizationKind.RETROSPECTIVE and window is not None and last_day is not None:
        late = (today - last_day).days
        if late > window:
            text = f"retrospective request {late} days after service; the payer accepts {window} days"
            found.append(Finding(FindingKind.RETRO_WINDOW, text, f"{path}.serviced", sequence))
    return found


def duplicate_findings(request: PriorAuthRequest, duplicates: Mapping[int, str]) -> list[Finding]:
    """Items (by sequence) that an active authorization (its reference) already covers."""
    found: list[Finding] = []
    for position, item in enumerate(request.items):
        reference = duplicates.get(item.sequence)
        if reference is not None:
            text = (
                f"an active authorization ({reference}) already covers {item.product_or_service.code} "
                "for this patient on overlapping dates"
            )
            found.append(
                Finding(FindingKind.DUPLICATE, text, f"{_item_path(position)}.productOrService", item.sequence)
            )
    return found


def pre_submission_findings(
    request: PriorAuthRequest,
    facts: BundleFacts,
    determinations: Mapping[int, Determination],
    *,
    today: date,
    duplicates: Mapping[int, str] | None = None,
) -> list[Finding]:
    """Every finding about the request, in item order (cancelled items are not checked)."""
    found = code_findings(request)
    for position, item in enumerate(request.items):
        determination = determinations.get(item.sequence)
        if determination is not None and not item.cancelled:
            found += item_findings(position, item, determination, request, facts, today)
    found += duplicate_findings(request, duplicates or {})
    return found
