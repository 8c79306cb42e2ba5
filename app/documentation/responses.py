"""The QuestionnaireResponses a PAS request or a CDex `$submit-attachment` carries, checked against the
packaged questionnaires (docs/dtr.md)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from app.coverage.book import RulesHolder
from app.documentation.catalog import Catalog, CatalogHolder
from app.errors import Issue, Unprocessable
from app.fhir.dtr_responses import check_response, response_findings
from app.fhir.references import BundleIndex
from app.fhir.submit import ParsedSubmission
from app.payers import PayerRegistry
from app.payers.registry import NoPayerMatches


class _Lookup:
    """The packaged questionnaires of every payer, by `url|version` or by `url` (the latest)."""

    def __init__(self, catalog: Catalog) -> None:
        self._payers = list(catalog.by_payer.values())

    def exact(self, canonical: str) -> dict[str, Any] | None:
        if "|" not in canonical:
            return None
        found = next((p.packages[canonical] for p in self._payers if canonical in p.packages), None)
        return found.questionnaire if found is not None else None

    def latest(self, url: str) -> dict[str, Any] | None:
        found = next((p.resolve(url) for p in self._payers if url in p.latest), None)
        return found.questionnaire if found is not None else None


def questionnaire_findings(catalog: Catalog, bundle: dict[str, Any], index: BundleIndex) -> list[Issue]:
    """`documentation-incomplete` findings for the supporting QuestionnaireResponses (warnings, by FHIRPath)."""
    lookup = _Lookup(catalog)
    return response_findings(bundle, index, lookup.exact, lookup.latest)


class FindingDeps(Protocol):
    @property
    def payers(self) -> PayerRegistry: ...

    @property
    def coverage(self) -> RulesHolder: ...

    @property
    def questionnaires(self) -> CatalogHolder: ...


def _refuses(deps: FindingDeps, parsed: ParsedSubmission) -> bool:
    """Whether the rules of the payer the request goes to say `on_findings = "refuse"` (a cancel never is)."""
    if parsed.request.cancels_all:
        return False
    try:
        entry = deps.payers.route(parsed.request.insurer, parsed.request.payor)
    except NoPayerMatches:
        return False  # $submit / $validate say so themselves
    rules = deps.coverage.current.for_payer(entry.id)
    return rules is not None and rules.rules.on_findings == "refuse"


def graded_findings(deps: FindingDeps, parsed: ParsedSubmission) -> tuple[list[Issue], bool]:
    """The request's QuestionnaireResponse findings like its other pre-submission findings: warnings, or
    errors when the payer's rules refuse findings (then True: `$submit` refuses the request)."""
    findings = questionnaire_findings(deps.questionnaires.current, parsed.bundle, parsed.index)
    if not findings or not _refuses(deps, parsed):
        return findings, False
    return [Issue(issue.text, issue.code, "error", issue.expression) for issue in findings], True


def check_submitted_answers(deps: FindingDeps, parsed: ParsedSubmission) -> None:
    """`$submit`: the findings join the request's warnings (processNote), or refuse it (422, nothing stored)."""
    findings, refuse = graded_findings(deps, parsed)
    if refuse:
        text = f"the request would likely be denied or delayed ({len(findings)} finding(s)); correct it and resubmit"
        raise Unprocessable(text, issues=findings)
    parsed.warnings.extend(findings)


def asked_questionnaire_findings(
    catalog: Catalog, asked: str, responses: Iterable[tuple[dict[str, Any], str]]
) -> list[Issue]:
    """Errors for the QuestionnaireResponses (with their FHIRPaths) that answer the questionnaire a payer's
    information request names (`asked`, url or url|version), when the hub packages it: the same checks
    as at `$submit`; responses to other questionnaires, and unknown questionnaires, are the payer's business."""
    lookup = _Lookup(catalog)
    url = asked.partition("|")[0]
    current = lookup.latest(url)
    if current is None:
        return []
    issues: list[Issue] = []
    for response, path in responses:
        canonical = str(response.get("questionnaire") or "")
        if canonical.partition("|")[0] != url:
            continue
        issues += check_response(lookup.exact(canonical) or current, current, response, path)
    return [Issue(issue.text, issue.code, "error", issue.expression) for issue in issues]
