"""The QuestionnaireResponses a PAS request or a CDex `$submit-attachment` carries, checked against the
packaged questionnaires (docs/dtr.md)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.documentation.catalog import Catalog
from app.errors import Issue
from app.fhir.dtr_responses import check_response, response_findings
from app.fhir.references import BundleIndex


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
