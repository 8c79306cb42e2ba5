"""`Claim/$validate`: the pre-submission check of a PAS request Bundle, nothing stored, no payer call.

Each item also gets its denial risk from the hub's own history (`app.requirements.risk`)."""

from __future__ import annotations

from typing import Protocol

from app.authorizations import RequirementsDeps, check_submission
from app.coverage.evaluate import Determination
from app.coverage.findings import CLAIM, FindingKind
from app.domain.model import PriorAuthRequest
from app.errors import Issue
from app.fhir.submit import ParsedSubmission
from app.requirements.risk import RiskSettings, risk_issues
from app.security.principal import Principal

_PA_TEXT = {
    "auth-needed": "prior authorization required",
    "no-auth": "no prior authorization required",
    "performpa": "prior authorization required from the performing provider",
    "conditional": "the payer decides",
}


class ValidateDeps(RequirementsDeps, RiskSettings, Protocol):
    """The rules in force, sessions and clock, and the settings (which denial-risk model answers)."""


def _summary(position: int, request: PriorAuthRequest, determination: Determination) -> Issue:
    item = request.items[position]
    if determination.covered == "not-covered":
        text = f"item {item.sequence} ({item.product_or_service.code}): not covered"
    else:
        text = f"item {item.sequence} ({item.product_or_service.code}): {_PA_TEXT[determination.pa_needed]}"
    if determination.rule_id:
        text += f" (rule {determination.rule_id})"
    if determination.reason:
        text += f": {determination.reason}"
    return Issue(text=text, code="informational", severity="information", expression=f"{CLAIM}.item[{position}]")


async def validate_submission(deps: ValidateDeps, principal: Principal, parsed: ParsedSubmission) -> list[Issue]:
    """Every finding (error when the payer refuses such requests or the item is not covered, else warning),
    the parser's warnings, one informational line per item saying what the rules require, and one with its
    denial risk."""
    request = parsed.request
    entry = deps.payers.route(request.insurer, request.payor)
    facts = parsed.facts()
    async with deps.sessions() as session:
        check = await check_submission(
            session,
            principal.client_id,
            deps.coverage.current.for_payer(entry.id),
            request,
            facts,
            now=deps.clock(),
            programs=deps.programs.for_payer(entry.id),
        )
        risk = await risk_issues(
            session,
            deps.settings,
            principal.client_id,
            entry.id,
            request,
            facts,
            check.assessment.findings,
            now=deps.clock(),
        )
    assessment = check.assessment
    refuse = assessment.on_findings == "refuse"
    issues = list(parsed.warnings)
    for finding in assessment.findings:
        severe = refuse or finding.kind is FindingKind.NOT_COVERED
        issues.append(finding.issue("error" if severe else "warning"))
    for position, item in enumerate(request.items):
        determination = assessment.determinations.get(item.sequence)
        if determination is not None:
            issues.append(_summary(position, request, determination))
    return issues + risk
