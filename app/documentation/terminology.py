"""`ValueSet/$expand` over the value sets the payers' questionnaire packages use (docs/dtr.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.documentation.catalog import Catalog
from app.errors import Issue, NotFound
from app.fhir.dtr_expand import ExpandRequest, expansion


def expand_value_set(catalog: Catalog, request: ExpandRequest, now: datetime) -> dict[str, Any]:
    """The expansion of the value set `request` names (any payer's: their URLs are their own), or NotFound."""
    for payer in catalog.by_payer.values():
        found = payer.value_set(request.canonical)
        if found is not None:
            return expansion(found, request, now)
    text = f"no value set {request.canonical} in the payers' questionnaire data"
    raise NotFound(text, issues=[Issue(text, "not-found", expression="url")])
