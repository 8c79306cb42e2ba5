"""The audit trail: one record per audited operation, with outcome; admins query it, as JSON or AuditEvents."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.security.principal import ADMIN, CLAIM_RESPONSE_READ
from app.store.models import AuditRecord
from tests.support.auth import bearer, token_for
from tests.support.bundles import make_pas_bundle


async def _admin(http: httpx.AsyncClient, app: FastAPI) -> dict[str, str]:
    return bearer(await token_for(http, app, "ops", [ADMIN], admin=True))


async def test_audited_requests_leave_one_record_each_with_outcome(
    secure_app: FastAPI, secure_client: httpx.AsyncClient
) -> None:
    token = await token_for(secure_client, secure_app, "ehr-a", [CLAIM_RESPONSE_READ])
    await secure_client.get("/fhir/_probe/r-1", headers=bearer(token) | {"X-Request-ID": "req-1"})
    await secure_client.get("/fhir/_probe/r-2", headers=bearer(token))
    admin = await _admin(secure_client, secure_app)
    page = (await secure_client.get("/audit", params={"operation": "probe.read"}, headers=admin)).json()
    assert [(i["client_id"], i["resource_ids"], i["outcome"]) for i in page["items"]] == [
        ("ehr-a", ["r-2"], 200),
        ("ehr-a", ["r-1"], 200),
    ]
    assert page["items"][1]["request_id"] == "req-1"
    tokens = (await secure_client.get("/audit", params={"operation": "auth.token"}, headers=admin)).json()
    assert {i["client_id"] for i in tokens["items"]} == {"ehr-a", "ops"}


async def test_refused_token_requests_are_audited_as_failures(
    secure_app: FastAPI, secure_client: httpx.AsyncClient
) -> None:
    await secure_client.post("/auth/token", data={"grant_type": "client_credentials"})
    admin = await _admin(secure_client, secure_app)
    page = (await secure_client.get("/audit", params={"client": "unknown"}, headers=admin)).json()
    assert [(i["operation"], i["outcome"]) for i in page["items"]] == [("auth.token", 401)]


async def test_audit_pages_follow_the_cursor(secure_app: FastAPI, secure_client: httpx.AsyncClient) -> None:
    token = await token_for(secure_client, secure_app, "ehr-a", [CLAIM_RESPONSE_READ])
    for n in range(5):
        await secure_client.get(f"/fhir/_probe/r-{n}", headers=bearer(token))
    admin = await _admin(secure_client, secure_app)
    seen: list[str] = []
    params: dict[str, str | int] = {"operation": "probe.read", "limit": 2}
    while True:
        page = (await secure_client.get("/audit", params=params, headers=admin)).json()
        seen += [i["resource_ids"][0] for i in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert seen == [f"r-{n}" for n in reversed(range(5))]


async def test_audit_exports_fhir_audit_events(secure_app: FastAPI, secure_client: httpx.AsyncClient) -> None:
    token = await token_for(secure_client, secure_app, "ehr-a", [CLAIM_RESPONSE_READ])
    await secure_client.get("/fhir/_probe/r-9", headers=bearer(token))
    admin = await _admin(secure_client, secure_app)
    response = await secure_client.get("/audit/AuditEvent", params={"operation": "probe.read"}, headers=admin)
    assert response.headers["content-type"].startswith("application/fhir+json")
    bundle = response.json()
    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] == "searchset"
    event = bundle["entry"][0]["resource"]
    assert event["resourceType"] == "AuditEvent"
    assert event["action"] == "R"
    assert event["outcome"] == "0"
    assert event["agent"][0]["who"]["identifier"]["value"] == "ehr-a"
    assert {"what": {"reference": "ClaimResponse/r-9"}} in event["entity"]


async def test_only_admins_read_the_audit_trail(secure_app: FastAPI, secure_client: httpx.AsyncClient) -> None:
    token = await token_for(secure_client, secure_app, "ehr-a", [CLAIM_RESPONSE_READ])
    response = await secure_client.get("/audit", headers=bearer(token))
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert (await secure_client.get("/audit")).status_code == 401
    # A client registered without the admin flag is never granted the admin scope.
    plain = await token_for(secure_client, secure_app, "ehr-b", [CLAIM_RESPONSE_READ, ADMIN])
    assert (await secure_client.get("/audit", headers=bearer(plain))).status_code == 403


async def test_each_submit_leaves_exactly_one_record_stored_with_its_answer(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    """The answer's audit row is written in the transaction that stores the answer (no second commit),
    a replay's too; a refusal (nothing stored) is still audited, by the middleware, with its status."""
    bundle = make_pas_bundle(
        items=1,
        claim_overrides={"identifier": [{"system": "http://provider.example.org/claims", "value": "C-audit"}]},
        identifier={"system": "http://provider.example.org/bundles", "value": "B-audit"},
    )
    first = await client.post("/fhir/Claim/$submit", json=bundle, headers={"X-Request-ID": "sub-1"})
    again = await client.post("/fhir/Claim/$submit", json=bundle, headers={"X-Request-ID": "sub-2"})
    bundle["identifier"]["value"] = "B-audit-other"  # same Claim identifier, new Bundle: refused
    refused = await client.post("/fhir/Claim/$submit", json=bundle, headers={"X-Request-ID": "sub-3"})
    assert (first.status_code, again.status_code, refused.status_code) == (200, 200, 409)
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                select(AuditRecord.request_id, AuditRecord.outcome, AuditRecord.resource_ids)
                .where(AuditRecord.operation == "claim.submit")
                .order_by(AuditRecord.id)
            )
        ).all()
    response_id = first.json()["entry"][0]["resource"]["id"]
    assert [tuple(row) for row in rows] == [
        ("sub-1", 200, [response_id]),
        ("sub-2", 200, [response_id]),
        ("sub-3", 409, []),
    ]
