"""Client isolation on the PAS routes: one EHR never sees another's requests (404, not 403)."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI

from app.security.principal import CLAIM_RESPONSE_READ, CLAIM_WRITE
from tests.support.auth import bearer, token_for
from tests.support.bundles import inquiry_for, pas_request
from tests.support.pas import FHIR_JSON, claim_response

SCOPES = [CLAIM_WRITE, CLAIM_RESPONSE_READ]


async def _as(client: httpx.AsyncClient, token: str, path: str, body: dict[str, Any]) -> httpx.Response:
    return await client.post(path, content=orjson.dumps(body), headers={**FHIR_JSON, **bearer(token)})


async def test_another_client_cannot_read_search_or_inquire(client: httpx.AsyncClient, app: FastAPI) -> None:
    alice = await token_for(client, app, "ehr-alice", SCOPES)
    bob = await token_for(client, app, "ehr-bob", SCOPES)
    bundle = pas_request("99212", tag="iso")
    submitted = await _as(client, alice, "/fhir/Claim/$submit", bundle)
    assert submitted.status_code == 200, submitted.text
    response_id = claim_response(submitted.json())["id"]

    assert (await client.get(f"/fhir/ClaimResponse/{response_id}", headers=bearer(alice))).status_code == 200
    read = await client.get(f"/fhir/ClaimResponse/{response_id}", headers=bearer(bob))
    assert read.status_code == 404
    assert read.json()["resourceType"] == "OperationOutcome"

    search = await client.get("/fhir/ClaimResponse", params={"identifier": response_id}, headers=bearer(bob))
    assert search.json()["total"] == 0

    app.state.runtime.settings.inquire_by_non_submitters = False
    refused = await _as(client, bob, "/fhir/Claim/$inquire", inquiry_for(bundle))
    assert refused.status_code == 200
    assert "parameter" not in refused.json()
    own = await _as(client, alice, "/fhir/Claim/$inquire", inquiry_for(bundle))
    assert [p["name"] for p in own.json()["parameter"]] == ["return"]


async def test_another_client_never_finds_a_request_by_patient_identifier(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    alice = await token_for(client, app, "ehr-alice", SCOPES)
    bob = await token_for(client, app, "ehr-bob", SCOPES)
    carol = await token_for(client, app, "ehr-carol", SCOPES)
    ids = {}
    for name, token in (("alice", alice), ("bob", bob)):  # the same patient (MRN-1, MEMBER-123) at two clients
        submitted = await _as(client, token, "/fhir/Claim/$submit", pas_request("99212", tag=f"pid-{name}"))
        assert submitted.status_code == 200, submitted.text
        ids[name] = claim_response(submitted.json())["id"]

    async def found(token: str, value: str) -> list[str]:
        params = {"patient.identifier": value}
        bundle = (await client.get("/fhir/ClaimResponse", params=params, headers=bearer(token))).json()
        assert bundle["total"] == len(bundle.get("entry", []))
        return [entry["resource"]["id"] for entry in bundle.get("entry", [])]

    for value in ("MRN-1", "http://provider.example.org/mrn|MRN-1", "MEMBER-123", "|MEMBER-123"):
        assert await found(alice, value) == [ids["alice"]]
        assert await found(bob, value) == [ids["bob"]]
        assert await found(carol, value) == []


@pytest.mark.parametrize("allowed", [True, False])
async def test_provider_of_record_may_inquire_only_when_configured(
    client: httpx.AsyncClient, app: FastAPI, allowed: bool
) -> None:
    alice = await token_for(client, app, "ehr-alice", SCOPES)
    bob = await token_for(client, app, "ehr-bob", SCOPES)
    bundle = pas_request("99212", tag=f"pr-{allowed}")
    assert (await _as(client, alice, "/fhir/Claim/$submit", bundle)).status_code == 200
    app.state.runtime.settings.inquire_by_non_submitters = allowed
    answer = (await _as(client, bob, "/fhir/Claim/$inquire", inquiry_for(bundle))).json()
    assert ("parameter" in answer) is allowed


async def test_pas_calls_leave_audit_records_with_the_ids_touched(client: httpx.AsyncClient, app: FastAPI) -> None:
    alice = await token_for(client, app, "ehr-alice", SCOPES)
    admin = await token_for(client, app, "ops-admin", ["ops/admin"], admin=True)
    bundle = pas_request("99212", tag="audit")
    response_id = claim_response((await _as(client, alice, "/fhir/Claim/$submit", bundle)).json())["id"]
    await client.get(f"/fhir/ClaimResponse/{response_id}", headers=bearer(alice))
    await _as(client, alice, "/fhir/Claim/$inquire", inquiry_for(bundle))
    page = (await client.get("/audit", params={"client": "ehr-alice"}, headers=bearer(admin))).json()
    records = {(r["operation"], tuple(r["resource_ids"]), r["outcome"]) for r in page["items"]}
    assert ("claim.submit", (response_id,), 200) in records
    assert ("claimresponse.read", (response_id,), 200) in records
    assert ("claim.inquire", (response_id,), 200) in records
