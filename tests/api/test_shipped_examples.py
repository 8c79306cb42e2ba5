"""The files under examples/ run against the service as the README and docs use them: each answer is
valid R4B, resolves every reference, and carries no warning (right code systems)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from app.fhir import urls
from app.fhir.response import PENDED_NOTE
from tests.support.pas import FHIR_JSON, claim_response, load_example, review_actions
from tests.support.references import dangling_references, echo_drift

R4B_BUNDLE = pytest.importorskip("fhir.resources.R4B.bundle")
R4B_PARAMETERS = pytest.importorskip("fhir.resources.R4B.parameters")
R4B_SUBSCRIPTION = pytest.importorskip("fhir.resources.R4B.subscription")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
Json = dict[str, Any]


async def _post(client: httpx.AsyncClient, path: str, name: str) -> tuple[Json, httpx.Response]:
    document = load_example(EXAMPLES / name)
    response = await client.post(path, content=orjson.dumps(document), headers=FHIR_JSON)
    assert response.status_code in (200, 201), response.text
    return document, response


def _checked(sent: Json, answer: Json) -> Json:
    R4B_BUNDLE.Bundle.model_validate(answer)
    assert dangling_references(answer, sent) == []
    assert echo_drift(answer, sent) == []
    resource = claim_response(answer)
    linked = {n for item in resource.get("item", []) for n in item.get("noteNumber", [])}
    for note in resource.get("processNote", []):  # only the pended hint and denial reasons: no warnings
        assert note["text"] == PENDED_NOTE or note["number"] in linked, note["text"]
    return resource


async def test_the_readme_loop_answers_approved_denied_and_pended_without_warnings(client: httpx.AsyncClient) -> None:
    for name, action in (("approve", "A1"), ("deny", "A3"), ("pend", "A4")):
        sent, response = await _post(client, "/fhir/Claim/$submit", f"pas/{name}.json")
        _checked(sent, response.json())
        assert set(review_actions(response.json()).values()) == {action}


async def test_update_cancel_and_inquiry_examples_follow_the_approved_request(client: httpx.AsyncClient) -> None:
    await _post(client, "/fhir/Claim/$submit", "pas/approve.json")
    sent, updated = await _post(client, "/fhir/Claim/$submit", "pas/update.json")
    assert review_actions(updated.json()) == {1: "A1"}
    update_id = _checked(sent, updated.json())["id"]

    sent, inquired = await _post(client, "/fhir/Claim/$inquire", "pas/inquire.json")
    R4B_PARAMETERS.Parameters.model_validate(inquired.json())
    returned = [p["resource"] for p in inquired.json()["parameter"]]
    assert [claim_response(b)["id"] for b in returned] == [update_id]  # the replacement, not the original
    assert returned[0]["meta"]["profile"] == [urls.PROFILE_INQUIRY_RESPONSE_BUNDLE]

    sent, cancelled = await _post(client, "/fhir/Claim/$submit", "pas/cancel.json")
    assert _checked(sent, cancelled.json())["outcome"] == "complete"
    assert review_actions(cancelled.json()) == {1: "C"}
    listed = (await client.get("/authorizations", params={"status": "cancelled"})).json()
    assert len(listed["authorizations"]) == 1


async def test_order_sign_example_gets_a_coverage_answer(client: httpx.AsyncClient) -> None:
    _, response = await _post(client, "/cds-services/crd-order-sign", "cds-hooks/order-sign.json")
    body = response.json()
    updates = [a for a in body.get("systemActions", []) if a["type"] == "update"]
    assert [a["resource"]["id"] for a in updates] == ["devreq-1"]
    assert any(e["url"] == urls.EXT_CRD_COVERAGE_INFORMATION for e in updates[0]["resource"]["extension"])


async def test_subscription_example_is_accepted(client: httpx.AsyncClient) -> None:
    _, response = await _post(client, "/fhir/Subscription", "fhir/subscription.json")
    assert response.status_code == 201
    R4B_SUBSCRIPTION.Subscription.model_validate(response.json())
    read = await client.get(httpx.URL(response.headers["location"]).path)
    assert read.json()["channel"]["endpoint"] == "https://ehr.example.org/fhir/pas-notifications"


async def test_the_cdex_example_names_its_organization_or_provider_and_answers_the_info_request(
    client: httpx.AsyncClient,
) -> None:
    attachment = load_example(EXAMPLES / "cdex/submit-attachment.json")
    named = {p["name"]: p for p in attachment["parameter"]}
    sender = named.get("OrganizationId") or named.get("ProviderId")
    assert sender is not None, "CDex requires OrganizationId or ProviderId from the client"
    assert sender["valueIdentifier"]["system"] == urls.NPI
    assert sender["valueIdentifier"]["value"]
    R4B_PARAMETERS.Parameters.model_validate(attachment)
    request, _ = await _post(client, "/fhir/Claim/$submit", "pas/info-requested.json")
    npis = {
        i["value"]
        for e in request["entry"]
        if e["resource"]["resourceType"] == "Organization"
        for i in e["resource"].get("identifier", [])
        if i.get("system") == urls.NPI
    }
    assert sender["valueIdentifier"]["value"] in npis
    _, answered = await _post(client, "/fhir/$submit-attachment", "cdex/submit-attachment.json")
    assert answered.json()["resourceType"] == "OperationOutcome"
