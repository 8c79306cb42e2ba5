"""SDC `$next-question` over the sandbox's adaptive questionnaire (enableWhen and FHIRPath enableWhenExpression)."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

NEXT = "/fhir/Questionnaire/$next-question"
FHIR = {"content-type": "application/fhir+json"}
ADAPTIVE = "https://epa-hub.example.org/fhir/dtr/sandbox/Questionnaire/lower-limb-prosthesis|1.0.0"
KLEVEL = "https://epa-hub.example.org/fhir/dtr/sandbox/CodeSystem/functional-level"
BELOW_KNEE = {"valueCoding": {"system": "http://snomed.info/sct", "code": "46028000"}}


def start(derived_from: str = ADAPTIVE) -> dict[str, Any]:
    return {
        "resourceType": "QuestionnaireResponse",
        "contained": [{"resourceType": "Questionnaire", "id": "q", "status": "active", "derivedFrom": [derived_from]}],
        "questionnaire": "#q",
        "status": "in-progress",
        "subject": {"reference": "Patient/pat-1"},
    }


def answer(response: dict[str, Any], link_id: str, value: dict[str, Any]) -> dict[str, Any]:
    return {**response, "item": [*response.get("item", []), {"linkId": link_id, "answer": [value]}]}


async def ask(client: httpx.AsyncClient, response: dict[str, Any]) -> dict[str, Any]:
    reply = await client.post(NEXT, content=orjson.dumps(response), headers=FHIR)
    assert reply.status_code == 200, reply.text
    result: dict[str, Any] = reply.json()
    return result


def asked(response: dict[str, Any]) -> list[str]:
    return [item["linkId"] for item in response["contained"][0].get("item", [])]


async def test_questions_come_one_at_a_time_following_enable_when(client: httpx.AsyncClient) -> None:
    response = await ask(client, start())
    assert asked(response) == ["amputation-level"]
    assert response["status"] == "in-progress"
    response = await ask(client, answer(response, "amputation-level", BELOW_KNEE))
    assert asked(response) == ["amputation-level", "ambulatory"]
    response = await ask(client, answer(response, "ambulatory", {"valueBoolean": True}))
    assert asked(response)[-1] == "k-level"  # enableWhen ambulatory = true; the not-ambulatory reason is skipped


@pytest.mark.parametrize(("level", "then"), [("K3", "variable-cadence"), ("K1", "evaluation-date")])
async def test_enable_when_expression_in_fhirpath_decides_the_next_item(
    client: httpx.AsyncClient, level: str, then: str
) -> None:
    response = answer(start(), "amputation-level", BELOW_KNEE)
    response = answer(response, "ambulatory", {"valueBoolean": True})
    response = answer(response, "k-level", {"valueCoding": {"system": KLEVEL, "code": level}})
    assert asked(await ask(client, response))[-1] == then


async def test_the_response_is_completed_when_no_enabled_item_is_left(client: httpx.AsyncClient) -> None:
    response = answer(start(), "amputation-level", BELOW_KNEE)
    response = answer(response, "ambulatory", {"valueBoolean": False})
    response = answer(response, "not-ambulatory-reason", {"valueString": "transfers"})
    assert (await ask(client, response))["status"] == "in-progress"
    response = answer(response, "evaluation-date", {"valueDate": "2030-05-01"})
    assert (await ask(client, response))["status"] == "completed"


async def test_parameters_in_is_accepted(client: httpx.AsyncClient) -> None:
    body = {"resourceType": "Parameters", "parameter": [{"name": "in", "resource": start()}]}
    reply = await client.post(NEXT, content=orjson.dumps(body), headers=FHIR)
    assert asked(reply.json()) == ["amputation-level"]


BAD = [
    (
        "wrong type",
        answer(start(), "ambulatory", {"valueString": "yes"}),
        400,
        "QuestionnaireResponse.item[0].answer[0]",
    ),
    ("unknown item", answer(start(), "shoe-size", {"valueString": "9"}), 400, "QuestionnaireResponse.item[0].linkId"),
    ("not R4", {**start(), "status": 7}, 400, "QuestionnaireResponse.status"),
    ("no contained", {**start(), "contained": []}, 400, "QuestionnaireResponse.contained"),
    ("unknown", start("https://example.org/Questionnaire/none|1"), 404, "QuestionnaireResponse.contained.derivedFrom"),
    (
        "not adaptive",
        start("https://epa-hub.example.org/fhir/dtr/sandbox/Questionnaire/power-mobility|1.0.0"),
        422,
        "QuestionnaireResponse.contained.derivedFrom",
    ),
]


@pytest.mark.parametrize(("why", "body", "status", "expression"), BAD, ids=[b[0] for b in BAD])
async def test_a_bad_response_is_refused_with_an_outcome_naming_where(
    client: httpx.AsyncClient, why: str, body: dict[str, Any], status: int, expression: str
) -> None:
    reply = await client.post(NEXT, content=orjson.dumps(body), headers=FHIR)
    assert reply.status_code == status, why
    assert reply.json()["resourceType"] == "OperationOutcome"
    assert expression in [e for issue in reply.json()["issue"] for e in issue.get("expression", [])]
