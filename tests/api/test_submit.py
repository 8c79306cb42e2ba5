"""Claim/$submit end to end: validation, sandbox decisions, idempotency, conflicts, limits."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.authorizations import FOLLOW_UP
from app.store.models import Authorization, Event, Job
from tests.support.bundles import make_pas_bundle, pas_request
from tests.support.pas import FHIR_JSON, claim_response, review_actions, submit

R4B = pytest.importorskip("fhir.resources.R4B.bundle")


async def _count(engine: AsyncEngine, model: Any) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(model))).scalar_one())


async def test_approved_request_answers_a_conformant_response_bundle(client: httpx.AsyncClient) -> None:
    response = await submit(client, pas_request("99212", "99211", "99213"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/fhir+json"
    body = response.json()
    R4B.Bundle.model_validate(body)
    assert body["type"] == "collection"
    assert body["identifier"]["value"]
    assert body["timestamp"]
    resource = claim_response(body)
    assert resource["outcome"] == "complete"
    assert resource["use"] == "preauthorization"
    assert review_actions(body) == {1: "A1", 2: "A1", 3: "NA"}
    assert resource["preAuthRef"]
    location = response.headers["location"]
    assert location.endswith(f"/fhir/ClaimResponse/{resource['id']}")
    read = await client.get(location.split("testserver", 1)[-1].replace("http://127.0.0.1:8000", ""))
    assert read.status_code == 200
    assert read.json()["id"] == resource["id"]


async def test_denied_item_carries_a_reason(client: httpx.AsyncClient) -> None:
    body = (await submit(client, pas_request("A9270"))).json()
    assert review_actions(body) == {1: "A3"}
    item = claim_response(body)["item"][0]
    review = next(e for e in item["adjudication"][0]["extension"] if e["url"].endswith("extension-reviewAction"))
    assert any(part["url"] == "reasonCode" for part in review["extension"])
    assert "preAuthRef" not in claim_response(body)


async def test_pended_request_is_followed_up_by_a_queued_job(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    body = (await submit(client, pas_request("E0470"))).json()
    assert review_actions(body) == {1: "A4"}
    assert claim_response(body)["outcome"] == "partial"
    async with engine.connect() as connection:
        job = (await connection.execute(select(Job.kind, Job.state, Job.payload).where(Job.kind == FOLLOW_UP))).one()
        status = (await connection.execute(select(Authorization.status))).scalar_one()
    assert (job.kind, job.state, job.payload) == ("authorization.follow_up", "queued", {"action": "inquire"})
    assert status == "pended"


async def test_payer_outage_answers_pended_and_loses_nothing(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    response = await submit(client, pas_request("99212", member="SBX-DOWN"))
    assert response.status_code == 200
    assert review_actions(response.json()) == {1: "A4"}
    async with engine.connect() as connection:
        job = (await connection.execute(select(Job.state, Job.payload).where(Job.kind == FOLLOW_UP))).one()
        events = (await connection.execute(select(Event.type).order_by(Event.id))).scalars().all()
    assert (job.state, job.payload) == ("queued", {"action": "submit"})
    assert events == ["received", "payer-unreachable"]


async def test_same_bundle_again_replays_the_same_answer_and_stores_nothing(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    bundle = pas_request("99212")
    first = await submit(client, bundle)
    counts = (await _count(engine, Authorization), await _count(engine, Event), await _count(engine, Job))
    second = await submit(client, bundle)
    assert second.status_code == first.status_code == 200
    assert second.content == first.content
    assert (await _count(engine, Authorization), await _count(engine, Event), await _count(engine, Job)) == counts


async def test_bundle_identifier_reused_for_other_content_is_a_conflict(client: httpx.AsyncClient) -> None:
    await submit(client, pas_request("99212"))
    response = await submit(client, pas_request("99211"))
    assert response.status_code == 409
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["expression"] == ["Bundle.identifier"]


async def test_claim_identifier_reused_without_related_is_a_conflict(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await submit(client, pas_request("99212", tag="1"))
    again = pas_request("99212", tag="2")
    again["entry"][0]["resource"]["identifier"][0]["value"] = "CLAIM-1"
    response = await submit(client, again)
    assert response.status_code == 409
    assert "PASClaimUpdate" in response.json()["issue"][0]["details"]["text"]
    assert await _count(engine, Authorization) == 1


async def test_invalid_bundle_is_400_with_every_issue_and_nothing_stored(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    bundle = pas_request("99212", "99211")
    claim = bundle["entry"][0]["resource"]
    claim["use"] = "claim"
    claim["item"][1]["sequence"] = 1
    response = await submit(client, bundle)
    assert response.status_code == 400
    outcome = response.json()
    expressions = {e for issue in outcome["issue"] for e in issue.get("expression", [])}
    assert "Bundle.entry[0].resource.use" in expressions
    assert any("sequence" in e for e in expressions)
    assert await _count(engine, Authorization) == 0


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b"{not json", FHIR_JSON, 400),
        (orjson.dumps({"resourceType": "Patient"}), FHIR_JSON, 400),
        (orjson.dumps(make_pas_bundle()), {"content-type": "application/xml"}, 400),  # read as XML: not XML
        (orjson.dumps(make_pas_bundle()), {"content-type": "text/plain"}, 415),
        (orjson.dumps(make_pas_bundle()), {}, 415),
    ],
)
async def test_bad_bodies_get_an_operation_outcome(
    client: httpx.AsyncClient, body: bytes, headers: dict[str, str], status: int
) -> None:
    response = await client.post("/fhir/Claim/$submit", content=body, headers=headers)
    assert response.status_code == status
    assert response.json()["resourceType"] == "OperationOutcome"


async def test_bodies_over_the_limit_get_413(client: httpx.AsyncClient, app: Any) -> None:
    limit = app.state.runtime.settings.max_body_bytes
    response = await client.post("/fhir/Claim/$submit", content=b" " * (limit + 1), headers=FHIR_JSON)
    assert response.status_code == 413
    assert response.json()["resourceType"] == "OperationOutcome"


async def test_metadata_names_the_pas_operations(client: httpx.AsyncClient) -> None:
    statement = (await client.get("/fhir/metadata")).json()
    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["fhirVersion"] == "4.0.1"
    names = {op["name"] for r in statement["rest"][0]["resource"] for op in r.get("operation", [])}
    assert {"submit", "inquire"} <= names
