"""SDC `$next-question` over the payers' adaptive questionnaires (DTR adaptive forms, docs/dtr.md)."""

from __future__ import annotations

from typing import Any

from app.documentation.catalog import Catalog
from app.errors import Issue, NotFound, Unprocessable
from app.fhir.dtr_adaptive import PROFILE_ADAPTIVE, adaptive_source, next_question
from app.fhir.elements import as_dict, as_list


def answer_next_question(catalog: Catalog, response: dict[str, Any]) -> dict[str, Any]:
    """The response with its next question (or completed); 404/422 when it derives from no adaptive questionnaire."""
    canonical = adaptive_source(response)
    where = "QuestionnaireResponse.contained.derivedFrom"
    for payer in catalog.by_payer.values():
        package = payer.resolve(canonical)
        if package is None:
            continue
        profiles = as_list(as_dict(package.questionnaire.get("meta")).get("profile"))
        if PROFILE_ADAPTIVE not in profiles:
            text = f"{canonical} is not an adaptive questionnaire (use \\$questionnaire-package)"
            raise Unprocessable(text, issues=[Issue(text, "not-supported", expression=where)])
        return next_question(package.questionnaire, response)
    text = f"no adaptive questionnaire {canonical}"
    raise NotFound(text, issues=[Issue(text, "not-found", expression=where)])
