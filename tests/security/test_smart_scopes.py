"""SMART v1 and v2 scopes side by side, wildcards, the configuration at the FHIR base, invalid_client's challenge."""

from __future__ import annotations

import httpx
import orjson
import pytest
from fastapi import FastAPI

from app.security.principal import CLAIM_RESPONSE_READ, CLAIM_WRITE, SUBSCRIPTION_ALL
from app.security.scopes import grants
from tests.support.auth import bearer, client_assertion, client_key, register_client, request_token, token_url
from tests.support.bundles import pas_request
from tests.support.pas import FHIR_JSON, claim_response


@pytest.mark.parametrize(
    ("held", "wanted", "expected"),
    [
        ("system/Claim.write", "system/Claim.c", True),
        ("system/Claim.write", "system/Claim.r", False),
        ("system/Claim.c", "system/Claim.write", False),
        ("system/Claim.cud", "system/Claim.write", True),
        ("system/ClaimResponse.read", "system/ClaimResponse.rs", True),
        ("system/ClaimResponse.rs", "system/ClaimResponse.read", True),
        ("system/ClaimResponse.r", "system/ClaimResponse.s", False),
        ("system/Subscription.*", "system/Subscription.cruds", True),
        ("system/Subscription.cruds", "system/Subscription.*", True),
        ("system/*.read", "system/ClaimResponse.r", True),
        ("system/*.cruds", "system/Claim.write", True),
        ("system/*.rs", "system/Claim.c", False),
        ("patient/Claim.write", "system/Claim.c", False),
        ("system/Claim.rc", "system/Claim.c", False),  # letters out of order: not a v2 scope
        ("system/Observation.rs?category=laboratory", "system/Observation.r", False),
        ("ops/admin", "ops/admin", True),
        ("ops/admin", "ops/admin.read", False),
    ],
)
def test_which_held_scope_grants_which_wanted_one(held: str, wanted: str, expected: bool) -> None:
    assert grants(held, wanted) is expected


async def _token(app: FastAPI, http: httpx.AsyncClient, client_id: str, registered: list[str], asked: list[str]) -> str:
    key = await register_client(app, client_id, registered, key=client_key("ES384"))
    response = await request_token(http, client_assertion(client_id, key, token_url(app)), asked)
    assert response.status_code == 200, response.text
    assert response.json()["scope"].split() == sorted(asked)
    token: str = response.json()["access_token"]
    return token


async def test_v2_scopes_are_granted_as_asked_to_a_v1_registration_and_open_the_routes(
    secure_app: FastAPI, secure_client: httpx.AsyncClient
) -> None:
    asked = ["system/Claim.c", "system/ClaimResponse.rs"]
    token = await _token(secure_app, secure_client, "ehr-v2", [CLAIM_WRITE, CLAIM_RESPONSE_READ], asked)
    body = orjson.dumps(pas_request("99212"))
    submitted = await secure_client.post("/fhir/Claim/$submit", content=body, headers={**FHIR_JSON, **bearer(token)})
    assert submitted.status_code == 200, submitted.text
    response_id = claim_response(submitted.json())["id"]
    read = await secure_client.get(f"/fhir/ClaimResponse/{response_id}", headers=bearer(token))
    assert read.status_code == 200
    search = await secure_client.get("/fhir/ClaimResponse", params={"identifier": "CLAIM-1"}, headers=bearer(token))
    assert search.status_code == 200


async def test_a_v2_read_without_search_cannot_search(secure_app: FastAPI, secure_client: httpx.AsyncClient) -> None:
    token = await _token(secure_app, secure_client, "ehr-r", [CLAIM_RESPONSE_READ], ["system/ClaimResponse.r"])
    search = await secure_client.get("/fhir/ClaimResponse", params={"identifier": "x"}, headers=bearer(token))
    assert search.status_code == 403
    assert (await secure_client.get("/fhir/ClaimResponse/nope", headers=bearer(token))).status_code == 404


async def test_a_wildcard_request_gets_the_registered_scopes_it_covers(
    secure_app: FastAPI, secure_client: httpx.AsyncClient
) -> None:
    key = await register_client(secure_app, "ehr-wild", [CLAIM_WRITE, CLAIM_RESPONSE_READ], key=client_key("ES384"))
    response = await request_token(
        secure_client, client_assertion("ehr-wild", key, token_url(secure_app)), ["system/*.rs"]
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == CLAIM_RESPONSE_READ
    token = response.json()["access_token"]
    search = await secure_client.get("/fhir/ClaimResponse", params={"identifier": "x"}, headers=bearer(token))
    assert search.status_code == 200
    submit = await secure_client.post("/fhir/Claim/$submit", content=b"{}", headers={**FHIR_JSON, **bearer(token)})
    assert submit.status_code == 403


async def test_a_star_read_scope_grants_read_and_search_on_every_resource_the_client_is_allowed(
    secure_app: FastAPI, secure_client: httpx.AsyncClient
) -> None:
    registered = [CLAIM_WRITE, CLAIM_RESPONSE_READ, SUBSCRIPTION_ALL]
    key = await register_client(secure_app, "ehr-star", registered, key=client_key("ES384"))
    response = await request_token(
        secure_client, client_assertion("ehr-star", key, token_url(secure_app)), ["system/*.rs"]
    )
    assert response.status_code == 200, response.text
    assert set(response.json()["scope"].split()) == {CLAIM_RESPONSE_READ, "system/Subscription.rs"}
    token = bearer(response.json()["access_token"])
    assert (await secure_client.get("/fhir/Subscription", headers=token)).status_code == 200
    assert (await secure_client.get("/fhir/Subscription/nope", headers=token)).status_code == 404
    search = await secure_client.get("/fhir/ClaimResponse", params={"identifier": "x"}, headers=token)
    assert search.status_code == 200
    created = await secure_client.post("/fhir/Subscription", content=b"{}", headers={**FHIR_JSON, **token})
    assert created.status_code == 403


async def test_smart_configuration_is_also_at_the_fhir_base(secure_client: httpx.AsyncClient) -> None:
    root = (await secure_client.get("/.well-known/smart-configuration")).json()
    base = await secure_client.get("/fhir/.well-known/smart-configuration")
    assert base.status_code == 200
    assert base.json() == root
    assert {"permission-v1", "permission-v2", "client-confidential-asymmetric"} <= set(root["capabilities"])
    assert {"system/Claim.c", "system/ClaimResponse.rs", CLAIM_WRITE} <= set(root["scopes_supported"])


async def test_invalid_client_carries_a_www_authenticate_challenge(
    secure_app: FastAPI, secure_client: httpx.AsyncClient
) -> None:
    response = await request_token(
        secure_client, client_assertion("nobody", client_key(), token_url(secure_app)), [CLAIM_WRITE]
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert 'error="invalid_client"' in response.headers["www-authenticate"]
