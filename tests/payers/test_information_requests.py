"""Payers that ask for documents: the sandbox's `request-info` outcome, and how the fhir-pas adapter
reads a payer's CommunicationRequest or CDex Task and sends the documents (CDex Parameters)."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
import respx

from app.domain.codes import ReviewAction
from app.domain.model import Attachment, Coding, ItemDecision
from app.payers.contract import AdapterContext, receives_attachments
from app.payers.errors import PayerRejected
from app.payers.fhir_pas import create_adapter as fhir_pas_factory
from app.payers.fhir_pas.information import information_request
from app.payers.sandbox import create_adapter as sandbox_factory
from tests.payers.builders import Clock, item, reference, request, submission
from tests.payers.fhir_pas_support import BASE, settings
from tests.support.payer_answers import claim_response_bundle

Json = dict[str, Any]
LOINC_NOTE = Coding("http://loinc.org", "11506-3")
CONTENT = orjson.dumps({"resourceType": "DocumentReference", "status": "current", "content": []})
DOCUMENT = Attachment("DocumentReference", CONTENT, hashlib.sha256(CONTENT).hexdigest())


def _sandbox(clock: Clock) -> Any:
    context = AdapterContext(payer_id="sandbox", http=httpx.AsyncClient(), clock=clock)
    return sandbox_factory({}, context)


async def test_sandbox_asks_member_sbx_info_for_a_note_and_approves_once_documents_arrive() -> None:
    clock = Clock()
    adapter = _sandbox(clock)
    sub = submission(request(item(1, "99212"), member="SBX-INFO"))

    asked = await adapter.submit(sub)

    assert [d.action for d in asked.decisions] == [ReviewAction.PENDED]
    assert asked.information_request is not None
    assert asked.information_request.codes == (LOINC_NOTE,)
    assert asked.information_request.due_at == clock.now.replace(microsecond=0) + timedelta(days=7)
    clock.now += timedelta(hours=1)
    still = await adapter.inquire(reference(sub, asked.payer_reference))
    assert [d.action for d in still.decisions] == [ReviewAction.PENDED]
    assert still.information_request == asked.information_request  # the same due time on every inquiry
    with_documents = dataclasses.replace(reference(sub, asked.payer_reference), attachments=(DOCUMENT,))
    decided = await adapter.submit_attachment(with_documents)
    assert [d.action for d in decided.decisions] == [ReviewAction.CERTIFIED]
    assert decided.information_request is None
    assert receives_attachments(adapter)


def _bundle_with(resource: Json, *, refer: bool) -> Json:
    bundle: Json = orjson.loads(claim_response_bundle((ItemDecision(1, ReviewAction.PENDED),)))
    if refer:
        bundle["entry"][0]["resource"]["contained"] = [resource]
        bundle["entry"][0]["resource"]["communicationRequest"] = [{"reference": f"#{resource['id']}"}]
    else:
        bundle["entry"].append({"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource})
    return bundle


def test_a_contained_communication_request_says_what_and_by_when() -> None:
    wanted = {
        "resourceType": "CommunicationRequest",
        "id": "cr1",
        "status": "active",
        "payload": [
            {
                "contentString": "Latest progress note",
                "extension": [
                    {
                        "url": "x",
                        "valueCodeableConcept": {"coding": [{"system": "http://loinc.org", "code": "11506-3"}]},
                    }
                ],
            }
        ],
        "occurrenceDateTime": "2031-02-01",
    }
    bundle = _bundle_with(wanted, refer=True)

    found = information_request(bundle, bundle["entry"][0]["resource"])

    assert found is not None
    assert found.codes == (LOINC_NOTE,)
    assert found.text == "Latest progress note"
    assert found.due_at == datetime(2031, 2, 1, 23, 59, 59, tzinfo=UTC)
    assert found.payer_reference == "cr1"


def test_a_cdex_task_with_attachment_request_codes_or_a_questionnaire() -> None:
    task = {
        "resourceType": "Task",
        "id": "t1",
        "status": "requested",
        "intent": "order",
        "description": "Send the operative report",
        "restriction": {"period": {"end": "2031-03-01T12:00:00Z"}},
        "input": [
            {
                "type": {"coding": [{"code": "attachment-request-code"}]},
                "valueCodeableConcept": {"coding": [{"system": "http://loinc.org", "code": "11504-8"}]},
            },
            {
                "type": {"coding": [{"code": "questionnaire"}]},
                "valueCanonical": "http://payer.example/Questionnaire/q1",
            },
        ],
    }
    bundle = _bundle_with(task, refer=False)

    found = information_request(bundle, bundle["entry"][0]["resource"])

    assert found is not None
    assert found.codes == (Coding("http://loinc.org", "11504-8"),)
    assert found.questionnaire == "http://payer.example/Questionnaire/q1"
    assert found.due_at == datetime(2031, 3, 1, 12, 0, tzinfo=UTC)
    assert found.text == "Send the operative report"


def test_an_answer_without_a_request_carries_none() -> None:
    bundle: Json = orjson.loads(claim_response_bundle((ItemDecision(1, ReviewAction.PENDED),)))

    assert information_request(bundle, bundle["entry"][0]["resource"]) is None


def _fhir_pas() -> Any:
    context = AdapterContext(payer_id="acme", http=httpx.AsyncClient(), clock=Clock())
    return fhir_pas_factory(settings(), context)


@respx.mock(assert_all_called=True)
async def test_fhir_pas_sends_cdex_parameters_then_inquires(respx_mock: respx.MockRouter) -> None:
    sent = respx_mock.post(f"{BASE}/$submit-attachment").mock(
        return_value=httpx.Response(
            200,
            json={"resourceType": "OperationOutcome", "issue": [{"severity": "information", "code": "informational"}]},
        )
    )
    respx_mock.post(f"{BASE}/Claim/$inquire").mock(
        return_value=httpx.Response(200, content=claim_response_bundle((ItemDecision(1, ReviewAction.CERTIFIED),)))
    )
    sub = submission(request(item(1, "E0470"), member="M-9"))
    ref = dataclasses.replace(reference(sub, "PAYER-REF-9"), attachments=(DOCUMENT,))

    reply = await _fhir_pas().submit_attachment(ref)

    assert [d.action for d in reply.decisions] == [ReviewAction.CERTIFIED]
    body = orjson.loads(sent.calls[0].request.content)
    by_name = {p["name"]: p for p in body["parameter"]}
    assert by_name["TrackingId"]["valueIdentifier"]["value"] == "PAYER-REF-9"
    assert by_name["AttachTo"]["valueCode"] == "preauthorization"
    assert by_name["MemberId"]["valueIdentifier"]["value"] == "M-9"
    assert by_name["Attachment"]["part"][0]["resource"] == orjson.loads(CONTENT)


@respx.mock
async def test_fhir_pas_payer_that_refuses_the_documents_is_a_rejection(respx_mock: respx.MockRouter) -> None:
    refusal = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "not-found", "details": {"text": "unknown tracking id"}}],
    }
    respx_mock.post(f"{BASE}/$submit-attachment").mock(return_value=httpx.Response(200, json=refusal))
    sub = submission(request(item(1, "E0470")))

    with pytest.raises(PayerRejected) as caught:
        await _fhir_pas().submit_attachment(dataclasses.replace(reference(sub, "R"), attachments=(DOCUMENT,)))
    assert caught.value.issues[0].code == "not-found"
