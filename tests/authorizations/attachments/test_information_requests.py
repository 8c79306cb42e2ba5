"""The payer asks for more information (PAS 2.2.1 + CDex 2.1), end to end through HTTP: the sandbox's
SBX-INFO member and a respx fhir-pas payer ask for documents, the authorization is `info-requested`
with a due time, the provider answers with `$submit-attachment`, and the payer decides. Webhooks go
to a real loopback receiver; the due clock runs on a moved clock. Both backends."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
import respx
from fhir.resources.R4B.operationoutcome import OperationOutcome
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.codes import ReviewAction
from tests.authorizations.support import (
    PAYER,
    Driver,
    claim_value,
    detail,
    pas_answer,
    request_bundle,
    submit_bundle,
    timeline,
    update_bundle,
)
from tests.support.pas import FHIR_JSON, claim_response
from tests.support.profiles import check_communication_request
from tests.support.receiver import Receiver, running_receiver

R4B_BUNDLE = pytest.importorskip("fhir.resources.R4B.bundle")

Json = dict[str, Any]
SUBMIT_ATTACHMENT = "/fhir/$submit-attachment"


def progress_note(text: str = "Progress note: conservative therapy failed") -> Json:
    return {
        "resourceType": "DocumentReference",
        "status": "current",
        "type": {"coding": [{"system": "http://loinc.org", "code": "11506-3"}]},
        "content": [{"attachment": {"contentType": "text/plain", "data": base64.b64encode(text.encode()).decode()}}],
    }


def attachment_parameters(tracking: str, *documents: Json, member: str | None = None) -> Json:
    parameters: list[Json] = [
        {"name": "TrackingId", "valueIdentifier": {"system": "http://provider.example.org/claims", "value": tracking}},
        {"name": "AttachTo", "valueCode": "preauthorization"},
        {"name": "PayerId", "valueIdentifier": {"value": "SANDBOX"}},
    ]
    if member is not None:
        parameters.append({"name": "MemberId", "valueIdentifier": {"value": member}})
    for document in documents or (progress_note(),):
        parameters.append({"name": "Attachment", "part": [{"name": "Content", "resource": document}]})
    return {"resourceType": "Parameters", "parameter": parameters}


async def send_attachments(client: httpx.AsyncClient, parameters: Json) -> httpx.Response:
    return await client.post(SUBMIT_ATTACHMENT, content=orjson.dumps(parameters), headers=FHIR_JSON)


async def register(client: httpx.AsyncClient, receiver: Receiver) -> None:
    response = await client.post("/webhooks", json={"url": receiver.url, "event_types": ["*"], "description": "t"})
    assert response.status_code == 201, response.text


def delivered(receiver: Receiver) -> list[str]:
    return [orjson.loads(r.body)["type"] for r in receiver.requests]


async def stored_attachments(engine: AsyncEngine, authorization_id: uuid.UUID) -> list[tuple[str, int]]:
    from app.store.models import Attachment

    async with engine.connect() as connection:
        rows = await connection.execute(
            select(Attachment.sha256, Attachment.size).where(Attachment.authorization_id == authorization_id)
        )
        return [(r[0], r[1]) for r in rows]


async def test_sandbox_asks_for_documents_and_approves_once_they_arrive(
    client: httpx.AsyncClient, driver: Driver, engine: AsyncEngine
) -> None:
    async with running_receiver() as receiver:
        await register(client, receiver)
        bundle = request_bundle("99212", member="SBX-INFO")
        asked = await submit_bundle(client, bundle)

        assert asked.actions == {1: "A4"}
        R4B_BUNDLE.Bundle.model_validate(asked.body)
        response = claim_response(asked.body)
        assert response["communicationRequest"] == [{"reference": "#information-request"}]
        (wanted,) = response["contained"]
        assert wanted["resourceType"] == "CommunicationRequest"
        check_communication_request(wanted)
        (payload,) = wanted["payload"]
        assert payload["contentString"] == "11506-3"
        assert wanted["note"]
        shown = await detail(client, asked.authorization_id)
        assert shown["status"] == "info-requested"
        assert timeline(shown) == ["received", "payer-answered", "info-requested"]
        request = shown["information_request"]
        assert request["open"] is True
        assert request["overdue"] is False
        assert request["codes"] == ["http://loinc.org|11506-3"]
        assert datetime.fromisoformat(request["due_at"]) > datetime.fromisoformat(shown["clocks"]["received_at"])
        await driver.run()
        assert delivered(receiver) == ["authorization.received", "authorization.info-requested"]

        note = progress_note()
        answered = await send_attachments(client, attachment_parameters(claim_value(bundle), note, note))

        assert answered.status_code == 200, answered.text
        OperationOutcome.model_validate(answered.json())
        assert "1 attachment(s) stored" in answered.json()["issue"][0]["details"]["text"]
        shown = await detail(client, asked.authorization_id)
        assert shown["status"] == "approved"
        assert timeline(shown)[-2:] == ["attachments-received", "payer-answered"]
        assert shown["information_request"]["open"] is False
        read = (await client.get(f"/fhir/ClaimResponse/{asked.authorization_id}")).json()
        assert read["outcome"] == "complete"
        assert "communicationRequest" not in read
        assert [i["decision_code"] for i in shown["items"]] == ["A1"]
        assert len(await stored_attachments(engine, asked.authorization_id)) == 1  # the same document once
        listed = (await client.get(f"/authorizations/{asked.authorization_id}/attachments")).json()["attachments"]
        assert [(a["resource_type"], a["forwarded_at"] is not None) for a in listed] == [("DocumentReference", True)]
        assert "content" not in listed[0]
        await driver.run()
        assert delivered(receiver)[2:] == ["authorization.pended", "authorization.approved"]
        await driver.run(until=datetime.fromisoformat(request["due_at"]) + timedelta(seconds=1))
        assert "info-overdue" not in timeline(await detail(client, asked.authorization_id))  # the documents came

    again = await send_attachments(client, attachment_parameters(claim_value(bundle)))
    assert again.status_code == 409
    assert "awaits no documents" in again.text


async def test_documents_due_time_passes_info_overdue_event_and_notification(
    client: httpx.AsyncClient, driver: Driver
) -> None:
    async with running_receiver() as receiver:
        await register(client, receiver)
        asked = await submit_bundle(client, request_bundle("99212", member="SBX-INFO"))
        due_at = datetime.fromisoformat((await detail(client, asked.authorization_id))["information_request"]["due_at"])

        await driver.run(until=due_at - timedelta(minutes=1))
        assert "info-overdue" not in timeline(await detail(client, asked.authorization_id))
        await driver.run(until=due_at + timedelta(seconds=1))

        shown = await detail(client, asked.authorization_id)
        assert shown["status"] == "info-requested"
        assert "info-overdue" in timeline(shown)
        await driver.run()
        assert "authorization.info-overdue" in delivered(receiver)


async def test_unknown_tracking_id_is_refused_naming_it(client: httpx.AsyncClient) -> None:
    response = await send_attachments(client, attachment_parameters("NO-SUCH-CLAIM"))

    assert response.status_code == 422
    issue = response.json()["issue"][0]
    assert issue["code"] == "not-found"
    assert "TrackingId" in issue["expression"][0]
    assert "NO-SUCH-CLAIM" in issue["details"]["text"]


@pytest.mark.parametrize(
    ("parameters", "expression"),
    [
        (
            {"resourceType": "Parameters", "parameter": [{"name": "AttachTo", "valueCode": "claim"}]},
            "Parameters.parameter",
        ),
        ({"resourceType": "Bundle"}, "Parameters"),
    ],
    ids=["no TrackingId nor Attachment", "not Parameters"],
)
async def test_malformed_submit_attachment_is_one_400_outcome(
    client: httpx.AsyncClient, parameters: Json, expression: str
) -> None:
    response = await send_attachments(client, parameters)

    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"
    assert response.json()["issue"][0]["expression"] == [expression]


async def test_member_that_does_not_match_the_authorization_is_refused(client: httpx.AsyncClient) -> None:
    bundle = request_bundle("99212", member="SBX-INFO")
    asked = await submit_bundle(client, bundle)

    response = await send_attachments(client, attachment_parameters(claim_value(bundle), member="SOMEONE-ELSE"))

    assert response.status_code == 422
    assert "MemberId" in response.json()["issue"][0]["expression"][0]
    assert (await detail(client, asked.authorization_id))["status"] == "info-requested"  # nothing half-stored


def _asking(reference: str = "ACME-REF-1") -> httpx.Response:
    """A pended PAS answer that asks for a progress note by a due date (ClaimResponse.communicationRequest)."""
    bundle = orjson.loads(pas_answer(ReviewAction.PENDED, reference=reference).content)
    claim_response = bundle["entry"][0]["resource"]
    claim_response["communicationRequest"] = [{"reference": "CommunicationRequest/need-notes"}]
    bundle["entry"].append(
        {
            "fullUrl": "urn:uuid:need-notes",
            "resource": {
                "resourceType": "CommunicationRequest",
                "id": "need-notes",
                "status": "active",
                "payload": [
                    {
                        "contentString": "Send the latest progress note",
                        "extension": [
                            {
                                "url": "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-contentModifier",
                                "valueCodeableConcept": {"coding": [{"system": "http://loinc.org", "code": "11506-3"}]},
                            }
                        ],
                    }
                ],
                "occurrencePeriod": {"end": "2031-01-15T17:00:00Z"},
            },
        }
    )
    return httpx.Response(200, content=orjson.dumps(bundle), headers=FHIR_JSON)


async def test_fhir_pas_payer_asks_in_its_claim_response_and_gets_the_documents(
    client: httpx.AsyncClient, driver: Driver, acme: respx.MockRouter, engine: AsyncEngine
) -> None:
    acme.post(f"{PAYER}/Claim/$submit").mock(return_value=_asking())
    sent = acme.post(f"{PAYER}/$submit-attachment").mock(
        return_value=httpx.Response(
            200,
            content=orjson.dumps(
                {"resourceType": "OperationOutcome", "issue": [{"severity": "information", "code": "informational"}]}
            ),
            headers=FHIR_JSON,
        )
    )
    acme.post(f"{PAYER}/Claim/$inquire").mock(return_value=pas_answer(ReviewAction.CERTIFIED))
    async with running_receiver() as receiver:
        await register(client, receiver)
        bundle = request_bundle("E0470", acme=True)
        asked = await submit_bundle(client, bundle)

        shown = await detail(client, asked.authorization_id)
        assert shown["status"] == "info-requested"
        request = shown["information_request"]
        assert request["due_at"].startswith("2031-01-15T17:00:00")
        assert request["codes"] == ["http://loinc.org|11506-3"]
        assert request["text"] == "Send the latest progress note"
        (wanted,) = claim_response(asked.body)["contained"]
        check_communication_request(wanted)
        assert [p["contentString"] for p in wanted["payload"]] == ["11506-3"]
        assert {"text": "Send the latest progress note"} in wanted["note"]

        answered = await send_attachments(client, attachment_parameters(claim_value(bundle)))
        assert answered.status_code == 200, answered.text
        assert (await detail(client, asked.authorization_id))["status"] == "pended"  # forwarded by the worker
        await driver.run()

        assert sent.call_count == 1
        forwarded = orjson.loads(sent.calls[0].request.content)
        names = [p["name"] for p in forwarded["parameter"]]
        assert names[:2] == ["TrackingId", "AttachTo"]
        assert "Attachment" in names
        assert forwarded["parameter"][0]["valueIdentifier"]["value"] == "ACME-REF-1"
        shown = await detail(client, asked.authorization_id)
        assert shown["status"] == "approved"
        assert timeline(shown)[-2:] == ["attachments-received", "payer-answered"]
        await driver.run()
        assert delivered(receiver) == [
            "authorization.received",
            "authorization.info-requested",
            "authorization.pended",
            "authorization.approved",
        ]
    assert len(await stored_attachments(engine, asked.authorization_id)) == 1


async def test_a_client_cannot_attach_to_another_clients_authorization(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    from app.store.models import Authorization

    bundle = request_bundle("99212", member="SBX-INFO")
    asked = await submit_bundle(client, bundle)
    async with engine.begin() as connection:  # the same request, as if another client had sent it
        await connection.execute(
            update(Authorization).where(Authorization.id == asked.authorization_id).values(client_id="another-client")
        )

    response = await send_attachments(client, attachment_parameters(claim_value(bundle)))

    assert response.status_code == 422
    assert (await client.get(f"/authorizations/{asked.authorization_id}/attachments")).status_code == 404
    async with engine.connect() as connection:
        count = await connection.scalar(select(func.count()).select_from(Authorization.__table__))
    assert count == 1


def _with_documents(bundle: Json, member: str) -> Json:
    """The update carries a progress note: Claim.supportingInfo `additionalInformation` -> a DocumentReference."""
    claim = bundle["entry"][0]["resource"]
    for entry in bundle["entry"]:
        if entry["resource"]["resourceType"] == "Coverage":
            entry["resource"]["subscriberId"] = member
    bundle["entry"].append({"fullUrl": "urn:uuid:0b1c2d3e-0000-4000-8000-000000000001", "resource": progress_note()})
    claim["supportingInfo"] = [
        {
            "sequence": 1,
            "category": {
                "coding": [
                    {
                        "system": "http://hl7.org/fhir/us/davinci-pas/CodeSystem/PASTempCodes",
                        "code": "additionalInformation",
                    }
                ]
            },
            "valueReference": {"reference": "urn:uuid:0b1c2d3e-0000-4000-8000-000000000001"},
        }
    ]
    return bundle


async def test_an_update_carrying_the_documents_answers_the_request(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    original = request_bundle("99212", member="SBX-INFO")
    asked = await submit_bundle(client, original)
    assert (await detail(client, asked.authorization_id))["status"] == "info-requested"

    updated = await submit_bundle(client, _with_documents(update_bundle(original, "99212"), "SBX-INFO"))

    shown = await detail(client, updated.authorization_id)
    assert shown["status"] == "approved"
    received = next(e for e in shown["timeline"] if e["type"] == "received")
    assert received["detail"]["attachments"] == 1
    assert len(await stored_attachments(engine, updated.authorization_id)) == 1
    before = await detail(client, asked.authorization_id)
    assert before["status"] == "info-requested"
    assert before["current"] is False


async def test_a_payer_that_finds_no_authorization_needed_settles_an_information_request(
    client: httpx.AsyncClient, driver: Driver, acme: respx.MockRouter
) -> None:
    """The payer asked for documents, then (on the follow-up, before any came) answers NA: not-required,
    the request closed and its due clock quiet."""
    acme.post(f"{PAYER}/Claim/$submit").mock(return_value=_asking())
    inquired = acme.post(f"{PAYER}/Claim/$inquire").mock(return_value=pas_answer(ReviewAction.NO_ACTION_REQUIRED))
    async with running_receiver() as receiver:
        await register(client, receiver)
        asked = await submit_bundle(client, request_bundle("E0470", acme=True))
        shown = await detail(client, asked.authorization_id)
        assert shown["status"] == "info-requested"

        await driver.run(timedelta(days=1))  # the follow-up asks again

        assert inquired.call_count >= 1
        shown = await detail(client, asked.authorization_id)
        assert shown["status"] == "not-required"
        assert [i["decision_code"] for i in shown["items"]] == ["NA"]
        assert shown["information_request"]["open"] is False
        await driver.run()
        assert delivered(receiver) == [
            "authorization.received",
            "authorization.info-requested",
            "authorization.not-required",
        ]
