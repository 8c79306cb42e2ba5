"""PAS closes the loop: Claim/$validate and $submit check the QuestionnaireResponses a request carries, and a
rules file's `on_findings = "refuse"` refuses an incomplete one (both backends)."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.settings import Settings
from tests.documentation.test_catalog import SHIPPED, SHIPPED_RULES
from tests.support.coverage import authorizations, claim_of, client_with_rules, pas_bundle, post_fhir

VALIDATE = "/fhir/Claim/$validate"
POWER_MOBILITY = "https://epa-hub.example.org/fhir/dtr/sandbox/Questionnaire/power-mobility"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
ANSWERS: dict[str, dict[str, Any]] = {
    "order.code": {"valueCoding": {"system": "https://bluebutton.cms.gov/resources/codesystem/hcpcs", "code": "K0823"}},
    "order.member": {"valueString": "MEMBER-123"},
    "patient.age": {"valueInteger": 71},
    "clinical.f2f-date": {"valueDate": "2030-04-20"},
    "clinical.diagnosis-on-record": {"valueBoolean": True},
    "clinical.diagnosis": {"valueCoding": {"system": ICD10, "code": "G35"}},
    "clinical.mral-limitation": {"valueBoolean": True},
    "clinical.cane-walker": {"valueBoolean": False},
    "clinical.manual-wheelchair": {"valueBoolean": False},
    "clinical.home-access": {"valueBoolean": True},
    "clinical.safe-operation": {"valueBoolean": True},
}


def response(answers: dict[str, dict[str, Any]], version: str = "1.0.0") -> dict[str, Any]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for link_id, answer in answers.items():
        groups.setdefault(link_id.split(".")[0], []).append({"linkId": link_id, "answer": [answer]})
    return {
        "resourceType": "QuestionnaireResponse",
        "id": "qr-1",
        "questionnaire": f"{POWER_MOBILITY}|{version}",
        "status": "completed",
        "subject": {"reference": "Patient/patient-1"},
        "item": [{"linkId": group, "item": items} for group, items in groups.items()],
    }


def with_response(qr: dict[str, Any]) -> dict[str, Any]:
    bundle = pas_bundle("K0823")
    bundle["entry"].append({"fullUrl": "http://provider.example.org/fhir/QuestionnaireResponse/qr-1", "resource": qr})
    claim_of(bundle)["supportingInfo"].append(
        {
            "sequence": 2,
            "category": {
                "coding": [
                    {
                        "system": "http://hl7.org/fhir/us/davinci-pas/CodeSystem/PASTempCodes",
                        "code": "additionalInformation",
                    }
                ]
            },
            "valueReference": {"reference": "QuestionnaireResponse/qr-1"},
        }
    )
    return bundle


def incomplete(outcome: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (issue["details"]["text"], issue["expression"][0])
        for issue in outcome["issue"]
        if issue["details"]["text"].startswith("documentation-incomplete")
    ]


async def test_a_complete_response_raises_no_finding(client: httpx.AsyncClient) -> None:
    outcome = (await post_fhir(client, VALIDATE, with_response(response(ANSWERS)))).json()
    assert incomplete(outcome) == []


async def test_a_missing_required_answer_is_named(client: httpx.AsyncClient) -> None:
    answers = {k: v for k, v in ANSWERS.items() if k != "clinical.cane-walker"}
    (finding,) = incomplete((await post_fhir(client, VALIDATE, with_response(response(answers)))).json())
    assert "required item clinical.cane-walker" in finding[0]
    assert finding[1] == "Bundle.entry[7].resource.item"


async def test_an_answer_of_the_wrong_type_is_named_by_fhirpath(client: httpx.AsyncClient) -> None:
    answers = copy.deepcopy(ANSWERS) | {"clinical.home-access": {"valueString": "yes"}}
    (finding,) = incomplete((await post_fhir(client, VALIDATE, with_response(response(answers)))).json())
    assert finding == (
        "documentation-incomplete: item clinical.home-access takes valueBoolean",
        "Bundle.entry[7].resource.item[2].item[6].answer[0]",
    )


@pytest.mark.parametrize("version", ["0.9.0"])
async def test_answers_to_a_version_that_is_not_current_are_a_finding(client: httpx.AsyncClient, version: str) -> None:
    (finding,) = incomplete((await post_fhir(client, VALIDATE, with_response(response(ANSWERS, version)))).json())
    assert "the current version is 1.0.0" in finding[0]
    assert finding[1] == "Bundle.entry[7].resource.questionnaire"


async def test_submit_carries_the_findings_as_process_notes(client: httpx.AsyncClient) -> None:
    answers = {k: v for k, v in ANSWERS.items() if k != "clinical.safe-operation"}
    reply = await post_fhir(client, "/fhir/Claim/$submit", with_response(response(answers)))
    assert reply.status_code == 200
    claim_response = reply.json()["entry"][0]["resource"]
    notes = [note["text"] for note in claim_response.get("processNote", [])]
    assert any(n.startswith("documentation-incomplete: required item clinical.safe-operation") for n in notes)


async def test_with_on_findings_refuse_an_incomplete_response_refuses_the_submit(
    settings: Settings, engine: AsyncEngine, tmp_path: Path
) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(SHIPPED, rules / "questionnaires" / "sandbox")
    refusing = SHIPPED_RULES.read_text(encoding="utf-8").replace('on_findings = "warn"', 'on_findings = "refuse"')
    assert 'on_findings = "refuse"' in refusing
    bundle = with_response(response({k: v for k, v in ANSWERS.items() if k != "clinical.safe-operation"}))
    async with client_with_rules(settings, rules, refusing) as client:
        checked = (await post_fhir(client, VALIDATE, bundle)).json()
        refused = await post_fhir(client, "/fhir/Claim/$submit", bundle)
    named = [i for i in checked["issue"] if "clinical.safe-operation" in i["details"]["text"]]
    found = [(i["severity"], i["expression"][0]) for i in named]
    assert found == [("error", "Bundle.entry[7].resource.item")]
    assert refused.status_code == 422, refused.text
    issues = refused.json()["issue"]
    assert [(i["severity"], i["expression"][0]) for i in issues] == [("error", "Bundle.entry[7].resource.item")]
    assert await authorizations(engine) == []
