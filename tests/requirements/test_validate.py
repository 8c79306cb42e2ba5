"""Claim/$validate: the pre-submission check answers an OperationOutcome, stores nothing, calls no payer."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.coverage import authorizations, claim_of, event_types, pas_bundle, post_fhir

VALIDATE = "/fhir/Claim/$validate"


def _texts(outcome: dict[str, object], severity: str | None = None) -> list[str]:
    issues = outcome["issue"]
    assert isinstance(issues, list)
    return [i["details"]["text"] for i in issues if severity is None or i["severity"] == severity]


async def test_validate_lists_findings_and_stores_nothing(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    response = await post_fhir(client, VALIDATE, pas_bundle("E0193", "A9270", member="SBX-DOWN"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/fhir+json"
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    texts = _texts(outcome)
    assert any(t.startswith("missing-documentation: E0193") for t in texts)
    assert any(t.startswith("not-covered: A9270") for t in _texts(outcome, "error"))
    assert any("item 1 (E0193): prior authorization required" in t for t in _texts(outcome, "information"))
    assert all(issue.get("expression") for issue in outcome["issue"])
    assert await authorizations(engine) == []
    assert await event_types(engine) == []


async def test_a_clean_request_has_only_informational_issues(client: httpx.AsyncClient) -> None:
    outcome = (await post_fhir(client, VALIDATE, pas_bundle("99212"))).json()
    assert {issue["severity"] for issue in outcome["issue"]} == {"information"}


async def test_structural_problems_come_back_as_issues_not_a_400(client: httpx.AsyncClient) -> None:
    bundle = pas_bundle("99212")
    claim_of(bundle)["item"][0]["diagnosisSequence"] = [7]
    claim_of(bundle)["diagnosis"][0]["diagnosisCodeableConcept"]["coding"][0]["code"] = "12.34"
    response = await post_fhir(client, VALIDATE, bundle)
    assert response.status_code == 200
    expressions = {e for issue in response.json()["issue"] for e in issue.get("expression", [])}
    assert "Bundle.entry[0].resource.item[0].diagnosisSequence[0]" in expressions
    assert any(e.startswith("Bundle.entry[0].resource.diagnosis[0]") for e in expressions)


@pytest.mark.parametrize("code", ["9921", "E0193"])
async def test_malformed_cpt_codes_are_reported(client: httpx.AsyncClient, code: str) -> None:
    bundle = pas_bundle("99212")
    claim_of(bundle)["item"][0]["productOrService"]["coding"][0]["code"] = code  # CPT system
    texts = _texts((await post_fhir(client, VALIDATE, bundle)).json(), "warning")
    assert any(t.startswith("malformed-code") and code in t for t in texts)


async def test_a_well_formed_cpt_code_is_not_reported(client: httpx.AsyncClient) -> None:
    texts = _texts((await post_fhir(client, VALIDATE, pas_bundle("99213"))).json())
    assert not any(t.startswith("malformed-code") for t in texts)


async def test_validate_needs_fhir_json(client: httpx.AsyncClient) -> None:
    response = await client.post(VALIDATE, content=b"{}", headers={"content-type": "text/plain"})
    assert response.status_code == 415
