"""An information request naming a questionnaire, answered through CDex `$submit-attachment` with a
QuestionnaireResponse checked against it: the sandbox member SBX-INFO-DTR asks for the power mobility
questionnaire; an incomplete answer is refused (422, nothing stored, still info-requested), a complete
one is stored and the payer approves; the request's id as `$questionnaire-package` context packages
the questionnaire asked for. End to end through HTTP, both backends."""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from tests.authorizations.support import claim_value, detail, request_bundle, submit_bundle, timeline
from tests.documentation.test_pas_loop import ANSWERS, POWER_MOBILITY, response
from tests.documentation.test_questionnaire_package import params, post, questionnaires_of
from tests.support.pas import FHIR_JSON, claim_response

Json = dict[str, Any]


def attachment(tracking: str, *documents: Json) -> bytes:
    parameters: list[Json] = [
        {"name": "TrackingId", "valueIdentifier": {"system": "http://provider.example.org/claims", "value": tracking}},
        {"name": "AttachTo", "valueCode": "preauthorization"},
    ]
    parameters += [{"name": "Attachment", "part": [{"name": "Content", "resource": d}]} for d in documents]
    return orjson.dumps({"resourceType": "Parameters", "parameter": parameters})


async def send(client: httpx.AsyncClient, tracking: str, *documents: Json) -> httpx.Response:
    return await client.post("/fhir/$submit-attachment", content=attachment(tracking, *documents), headers=FHIR_JSON)


async def test_the_sandbox_asks_for_a_questionnaire_and_the_answer_is_checked_against_it(
    client: httpx.AsyncClient,
) -> None:
    bundle = request_bundle("K0823", member="SBX-INFO-DTR")
    asked = await submit_bundle(client, bundle)
    (wanted,) = claim_response(asked.body)["contained"]
    assert f"Questionnaire {POWER_MOBILITY}|1.0.0" in [note["text"] for note in wanted["note"]]
    shown = await detail(client, asked.authorization_id)
    assert shown["status"] == "info-requested"

    unanswered = {k: v for k, v in ANSWERS.items() if k != "clinical.cane-walker"}
    wrong_type = {**ANSWERS, "patient.age": {"valueString": "seventy-one"}}
    refused = await send(client, claim_value(bundle), response(unanswered), response(wrong_type))
    assert refused.status_code == 422, refused.text
    issues = refused.json()["issue"]
    found = [(i["severity"], i["expression"][0]) for i in issues if "documentation-incomplete" in i["details"]["text"]]
    assert found == [
        ("error", "Parameters.parameter[2].part[0].resource.item"),
        ("error", "Parameters.parameter[3].part[0].resource.item[1].item[0].answer[0]"),
    ]
    assert any("clinical.cane-walker" in i["details"]["text"] for i in issues)
    shown = await detail(client, asked.authorization_id)
    assert shown["status"] == "info-requested"
    assert (await client.get(f"/authorizations/{asked.authorization_id}/attachments")).json()["attachments"] == []

    accepted = await send(client, claim_value(bundle), response(ANSWERS))
    assert accepted.status_code == 200, accepted.text
    shown = await detail(client, asked.authorization_id)
    assert shown["status"] == "approved"
    assert timeline(shown)[-2:] == ["attachments-received", "payer-answered"]


async def test_without_a_questionnaire_asked_a_response_passes_unchecked(client: httpx.AsyncClient) -> None:
    bundle = request_bundle("99212", member="SBX-INFO")  # asks for a progress note, names no questionnaire
    asked = await submit_bundle(client, bundle)
    unanswered = {k: v for k, v in ANSWERS.items() if k != "clinical.cane-walker"}
    accepted = await send(client, claim_value(bundle), response(unanswered))
    assert accepted.status_code == 200, accepted.text
    assert (await detail(client, asked.authorization_id))["status"] == "approved"


async def test_the_information_request_as_context_packages_the_questionnaire_asked_for(
    client: httpx.AsyncClient,
) -> None:
    asked = await submit_bundle(client, request_bundle("K0823", member="SBX-INFO-DTR"))
    for context in (f"ClaimResponse/{asked.authorization_id}", f"Task/{asked.authorization_id}"):
        answer = await post(client, params({"name": "context", "valueString": context}))
        assert answer.status_code == 200, answer.text
        assert questionnaires_of(answer.json()) == [f"{POWER_MOBILITY}|1.0.0"]

    plain = await submit_bundle(client, request_bundle("99212"))  # approved: asks for nothing any more
    answer = await post(client, params({"name": "context", "valueString": str(plain.authorization_id)}))
    assert answer.status_code == 404
    assert answer.json()["issue"][0]["expression"] == ["Parameters.parameter[1].valueString"]
