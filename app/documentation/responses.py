"""The QuestionnaireResponses a PAS request carries, checked against the packaged questionnaires (docs/dtr.md)."""

from __future__ import annotations

from typing import Any

from app.documentation.catalog import Catalog
from app.errors import Issue
from app.fhir.dtr_responses import response_findings
from app.fhir.references import BundleIndex


def questionnaire_findings(catalog: Catalog, bundle: dict[str, Any], index: BundleIndex) -> list[Issue]:
    """`documentation-incomplete` findings for the supporting QuestionnaireResponses (warnings, by FHIRPath)."""
    payers = list(catalog.by_payer.values())

    def exact(canonical: str) -> dict[str, Any] | None:
        if "|" not in canonical:
            return None
        found = next((p.packages[canonical] for p in payers if canonical in p.packages), None)
        return found.questionnaire if found is not None else None

    def latest(url: str) -> dict[str, Any] | None:
        found = next((p.resolve(url) for p in payers if url in p.latest), None)
        return found.questionnaire if found is not None else None

    return response_findings(bundle, index, exact, latest)
