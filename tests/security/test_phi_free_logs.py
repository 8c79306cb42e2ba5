"""No PHI in logs: Bundles carrying recognizable names, birth dates and member ids go through the app
at debug level, and none of them appears in any log record (message, arguments or extra fields)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from app.security.principal import CLAIM_RESPONSE_READ, CLAIM_WRITE
from tests.support.auth import bearer, token_for
from tests.support.logs import (
    BIRTH_DATE,
    FAMILY,
    GIVEN,
    MEMBER_ID,
    MRN,
    CapturedLogs,
    captured_logs,
    marked_bundle,
    phi_in,
)


@pytest.fixture
def captured() -> Iterator[CapturedLogs]:
    with captured_logs() as handler:
        yield handler


async def test_requests_with_phi_leave_no_phi_in_the_logs(
    app: FastAPI, client: httpx.AsyncClient, captured: CapturedLogs
) -> None:
    token = await token_for(client, app, "ehr-a", [CLAIM_WRITE, CLAIM_RESPONSE_READ])
    bundle = marked_bundle()
    fhir = {"Content-Type": "application/fhir+json"} | bearer(token)
    for path in ("/fhir/Claim/$submit", "/fhir/Claim/$inquire"):
        await client.post(path, content=json.dumps(bundle), headers=fhir)  # any status: it is the logs we check
        broken = json.dumps(bundle)[:-40]  # invalid JSON still holding the markers
        await client.post(path, content=broken, headers=fhir)
        await client.post(path, content=json.dumps(bundle), headers={"Content-Type": "application/fhir+json"})
    await client.post(
        "/auth/token", data={"grant_type": "client_credentials", "client_assertion": f"{FAMILY}.{BIRTH_DATE}"}
    )
    await client.post("/auth/token", data={"client_assertion": MEMBER_ID, "scope": GIVEN}, headers=bearer(MRN))
    await client.get("/audit", params={"client": MEMBER_ID, "operation": FAMILY}, headers=bearer(token))
    await client.get("/fhir/ClaimResponse/cr-unknown", params={"name": FAMILY}, headers=bearer(token))

    assert captured.texts, "nothing was logged: the capture is not working"
    assert phi_in(captured.texts) == []


async def test_values_the_database_would_refuse_leave_no_phi_in_the_logs(
    client: httpx.AsyncClient, captured: CapturedLogs
) -> None:
    fhir = {"Content-Type": "application/fhir+json"}
    for mutate in ("nul-member", "nul-mrn", "long-member"):
        bundle = marked_bundle()
        for entry in bundle["entry"]:
            resource = entry["resource"]
            if mutate == "nul-member" and resource["resourceType"] == "Coverage":
                resource["subscriberId"] = f"{MEMBER_ID}\x00"
            if mutate == "long-member" and resource["resourceType"] == "Coverage":
                resource["subscriberId"] = MEMBER_ID * 40
            if mutate == "nul-mrn" and resource["resourceType"] == "Patient":
                resource["identifier"][0]["value"] = f"{MRN}\x00"
        response = await client.post("/fhir/Claim/$submit", content=json.dumps(bundle), headers=fhir)
        assert response.status_code == 400
    await client.get("/authorizations", params={"member_id": f"{MEMBER_ID}\x00"})
    await client.get("/fhir/ClaimResponse", params={"patient.identifier": f"{MRN}\x00"})
    assert captured.texts
    assert phi_in(captured.texts) == []
