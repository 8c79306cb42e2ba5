"""Gold cards, exemptions and program routing, end to end through HTTP (both backends): an exempt item
is answered not-required with the exemption cited, before anything is sent, in $submit and in CRD;
a request a program routes goes to the contractor's adapter (the respx fhir-pas payer `acme`),
never to the request's own payer (the sandbox)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import respx

from app.domain.codes import ReviewAction
from app.settings import Settings
from tests.authorizations.support import (
    PAYER,
    cancel_all_bundle,
    detail,
    lifecycle_settings,
    pas_answer,
    request_bundle,
    submit_bundle,
    timeline,
)
from tests.support.pas import claim_response

Json = dict[str, Any]
GOLD_NPI = "1111111112"  # the care team's practitioner in the test Bundles
TEXAS_LAW = "Texas HB 3459 (2021), Tex. Ins. Code ch. 4201 subch. N"
PROGRAMS = f"""format = 1
version = "programs-test-1"

[[exemption]]
id = "tx-gold-card"
kind = "state-gold-card"
npis = ["{GOLD_NPI}"]
system = "cpt"
codes = ["72141", "72146-72149"]
states = ["TX"]
source = "{TEXAS_LAW}"
effective_from = 2025-01-01

[[routing]]
id = "wiser-tx"
program = "WISeR Model"
payers = ["sandbox"]
states = ["TX"]
system = "cpt"
codes = ["64561"]
adapter = "acme"
contractor = "Acme Review Services"
source = "CMS WISeR Model"
effective_from = 2026-01-01
"""


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    programs = tmp_path / "programs"
    programs.mkdir()
    (programs / "programs.toml").write_text(PROGRAMS)
    return lifecycle_settings(database_url, tmp_path, programs_dir=programs)


@pytest.fixture
def acme() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=PAYER, assert_all_called=False, assert_all_mocked=True) as router:
        yield router


def in_state(bundle: Json, state: str) -> Json:
    """The Bundle with the requesting provider (Claim.provider) practising in `state`."""
    for entry in bundle["entry"]:
        if entry["resource"]["resourceType"] == "Organization" and entry["resource"]["id"] == "provider-1":
            entry["resource"]["address"] = [{"city": "Austin", "state": state, "postalCode": "78701"}]
    return bundle


def notes(body: Json) -> list[str]:
    return [note["text"] for note in claim_response(body).get("processNote", [])]


async def test_an_exempt_item_is_not_required_with_the_exemption_cited_and_nothing_is_sent(
    client: httpx.AsyncClient, acme: respx.MockRouter
) -> None:
    # SBX-DOWN makes the sandbox fail: only a request that is never sent is answered at once.
    answered = await submit_bundle(client, in_state(request_bundle("72148", member="SBX-DOWN"), "TX"))
    assert answered.actions == {1: "NA"}
    assert any(TEXAS_LAW in text and "tx-gold-card" in text for text in notes(answered.body))
    adjudication = claim_response(answered.body)["item"][0]["adjudication"]
    assert TEXAS_LAW in orjson.dumps(adjudication).decode()
    shown = await detail(client, answered.authorization_id)
    assert shown["status"] == "not-required"
    assert timeline(shown) == ["received", "coverage-rules-decided"]
    received = shown["timeline"][0]["detail"]
    assert received["exemptions"]["1"]["exemption"] == "tx-gold-card"
    assert TEXAS_LAW in received["exemptions"]["1"]["citation"]
    assert not acme.calls


async def test_the_same_provider_in_another_state_goes_to_the_payer(client: httpx.AsyncClient) -> None:
    answered = await submit_bundle(client, in_state(request_bundle("72148"), "OK"))
    assert answered.actions == {1: "A1"}  # the sandbox approved it
    shown = await detail(client, answered.authorization_id)
    assert "exemptions" not in shown["timeline"][0]["detail"]
    assert not any(TEXAS_LAW in text for text in notes(answered.body))


async def test_a_routed_request_goes_to_the_contractors_adapter(
    client: httpx.AsyncClient, acme: respx.MockRouter
) -> None:
    contractor = acme.post("/Claim/$submit").mock(return_value=pas_answer(ReviewAction.CERTIFIED))
    answered = await submit_bundle(client, in_state(request_bundle("64561"), "TX"))
    assert contractor.call_count == 1
    sent = orjson.loads(contractor.calls.last.request.content)
    codes = [
        c["code"]
        for e in sent["entry"]
        if e["resource"]["resourceType"] == "Claim"
        for i in e["resource"]["item"]
        for c in i["productOrService"]["coding"]
    ]
    assert codes == ["64561"]
    assert answered.actions == {1: "A1"}
    shown = await detail(client, answered.authorization_id)
    assert shown["payer_id"] == "acme"
    routed = shown["timeline"][0]["detail"]["routed"]
    assert routed == {
        "routing": "wiser-tx",
        "program": "WISeR Model",
        "contractor": "Acme Review Services",
        "from_payer": "sandbox",
        "source": "CMS WISeR Model",
    }
    assert shown["timeline"][0]["detail"]["payer"] == "acme"


async def test_a_pas_cancel_of_a_routed_request_goes_to_the_contractor(
    client: httpx.AsyncClient, acme: respx.MockRouter
) -> None:
    contractor = acme.post("/Claim/$submit").mock(
        side_effect=[pas_answer(ReviewAction.PENDED), pas_answer(ReviewAction.CANCELLED)]
    )
    original = in_state(request_bundle("64561"), "TX")
    await submit_bundle(client, original)
    cancel = await submit_bundle(client, in_state(cancel_all_bundle(original), "TX"))
    assert contractor.call_count == 2
    assert (await detail(client, cancel.authorization_id))["payer_id"] == "acme"


async def test_outside_the_programs_states_the_request_stays_with_its_payer(
    client: httpx.AsyncClient, acme: respx.MockRouter
) -> None:
    answered = await submit_bundle(client, in_state(request_bundle("64561"), "CA"))
    assert not acme.calls
    assert (await detail(client, answered.authorization_id))["payer_id"] == "sandbox"


def order_sign(code: str, state: str) -> Json:
    """A CRD order-sign call: a ServiceRequest for CPT `code` by a practitioner (with NPI) practising in `state`."""
    order = {
        "resourceType": "ServiceRequest",
        "id": "sr-1",
        "status": "draft",
        "intent": "order",
        "code": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": code}]},
        "subject": {"reference": "Patient/patient-1"},
        "requester": {"reference": "Practitioner/practitioner-1"},
        "occurrenceDateTime": "2030-05-10",
    }
    practitioner = {
        "resourceType": "Practitioner",
        "id": "practitioner-1",
        "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": GOLD_NPI}],
        "address": [{"state": state}],
    }
    coverage = {
        "resourceType": "Coverage",
        "id": "coverage-1",
        "status": "active",
        "subscriberId": "MEMBER-123",
        "beneficiary": {"reference": "Patient/patient-1"},
        "payor": [{"reference": "Organization/insurer-1"}],
    }
    return {
        "hook": "order-sign",
        "hookInstance": "9f0c4c3e-5c55-4f3e-9a55-0c2d7b9b7a10",
        "context": {
            "userId": "Practitioner/practitioner-1",
            "patientId": "patient-1",
            "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": order}]},
        },
        "prefetch": {
            "coverage": {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": coverage}]},
            "practitioner": practitioner,
        },
    }


async def coverage_information(client: httpx.AsyncClient, body: Json) -> tuple[dict[str, Any], Json]:
    response = await client.post("/cds-services/crd-order-sign", json=body)
    assert response.status_code == 200, response.text
    answer: Json = response.json()
    (action,) = answer["systemActions"]
    (extension,) = [e for e in action["resource"]["extension"] if e["url"].endswith("ext-coverage-information")]
    parts: dict[str, Any] = {}
    for part in extension["extension"]:
        parts[part["url"]] = next(v for k, v in part.items() if k.startswith("value"))
    return parts, answer


async def test_crd_answers_no_auth_with_the_exemption_cited(client: httpx.AsyncClient) -> None:
    parts, answer = await coverage_information(client, order_sign("72148", "TX"))
    assert parts["pa-needed"] == "no-auth"
    assert TEXAS_LAW in parts["reason"]["text"]
    assert TEXAS_LAW in answer["cards"][0]["detail"]
    elsewhere, _ = await coverage_information(client, order_sign("72148", "NM"))
    assert elsewhere["pa-needed"] != "no-auth"


async def test_crd_names_the_contractor_of_a_routed_order(client: httpx.AsyncClient) -> None:
    parts, answer = await coverage_information(client, order_sign("64561", "TX"))
    assert "Acme Review Services" in parts["reason"]["text"]
    assert "WISeR Model" in answer["cards"][0]["detail"]
