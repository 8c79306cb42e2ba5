"""Every way a token request or a bearer token can be wrong is refused, with the right status and body."""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI

from app.runtime import Runtime
from app.security.principal import CLAIM_RESPONSE_READ, JOBS_READ
from app.security.registry import set_enabled
from tests.support.auth import (
    ClientKey,
    bearer,
    client_assertion,
    client_key,
    register_client,
    request_token,
    token_for,
    token_url,
)
from tests.support.secure import SIGNING_KEY

PROBE = "/fhir/_probe/r1"


def _assert_outcome(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == code


def _assert_oauth_error(response: httpx.Response, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert response.headers["cache-control"] == "no-store"


async def _token(http: httpx.AsyncClient, app: FastAPI, key: ClientKey, **claims: Any) -> httpx.Response:
    return await request_token(http, client_assertion("ehr-a", key, token_url(app), **claims), [CLAIM_RESPONSE_READ])


@pytest.mark.parametrize("alg", ["RS384", "ES384"])
async def test_a_signed_assertion_gets_a_token_that_opens_scoped_routes(
    secure_app: FastAPI, secure_client: httpx.AsyncClient, alg: Any
) -> None:
    key = await register_client(secure_app, "ehr-a", [CLAIM_RESPONSE_READ], key=client_key(alg))
    response = await _token(secure_client, secure_app, key)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["scope"] == CLAIM_RESPONSE_READ
    assert 0 < body["expires_in"] <= 300
    probe = await secure_client.get(PROBE, headers=bearer(body["access_token"]))
    assert probe.json() == {"client_id": "ehr-a", "scope_client_id": "ehr-a"}


async def test_smart_configuration_advertises_the_token_endpoint(secure_client: httpx.AsyncClient) -> None:
    config = (await secure_client.get("/.well-known/smart-configuration")).json()
    assert config["token_endpoint"] == "http://127.0.0.1:8000/auth/token"
    assert config["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert set(config["token_endpoint_auth_signing_alg_values_supported"]) == {"RS384", "ES384"}
    assert config["grant_types_supported"] == ["client_credentials"]
    assert CLAIM_RESPONSE_READ in config["scopes_supported"]


async def test_no_token_is_401_with_a_bearer_challenge(secure_client: httpx.AsyncClient) -> None:
    response = await secure_client.get(PROBE)
    _assert_outcome(response, 401, "login")
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_an_expired_access_token_is_401(secure_app: FastAPI, secure_client: httpx.AsyncClient) -> None:
    await register_client(secure_app, "ehr-a", [CLAIM_RESPONSE_READ])
    issuer = "http://127.0.0.1:8000"
    claims = {"iss": issuer, "aud": issuer, "sub": "ehr-a", "scope": CLAIM_RESPONSE_READ, "exp": int(time.time()) - 5}
    expired = jwt.encode(claims, SIGNING_KEY, algorithm="HS256")
    response = await secure_client.get(PROBE, headers=bearer(expired))
    _assert_outcome(response, 401, "login")
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_a_forged_or_garbled_access_token_is_401(secure_app: FastAPI, secure_client: httpx.AsyncClient) -> None:
    token = await token_for(secure_client, secure_app, "ehr-a", [CLAIM_RESPONSE_READ])
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = jwt.encode({**claims, "scope": f"{CLAIM_RESPONSE_READ} ops/admin"}, "x" * 40, algorithm="HS256")
    for bad in (forged, token[:-3] + "abc", "not-a-jwt"):
        _assert_outcome(await secure_client.get(PROBE, headers=bearer(bad)), 401, "login")


async def test_an_expired_assertion_is_refused(secure_app: FastAPI, secure_client: httpx.AsyncClient) -> None:
    key = await register_client(secure_app, "ehr-a", [CLAIM_RESPONSE_READ])
    _assert_oauth_error(await _token(secure_client, secure_app, key, lifetime=-10), 401, "invalid_client")


async def test_an_assertion_valid_for_more_than_five_minutes_is_refused(
    secure_app: FastAPI, secure_client: httpx.AsyncClient
) -> None:
    key = await register_client(secure_app, "ehr-a", [CLAIM_RESPONSE_READ])
    _assert_oauth_error(await _token(secure_client, secure_app, key, lifetime=3600), 401, "invalid_client")


async def test_a_wrong_audience_is_refused(secure_app: FastAPI, secure_client: httpx.AsyncClient) -> None:
    key = await register_client(secure_app, "ehr-a", [CLAIM_RESPONSE_READ])
    assertion = client_assertion("ehr-a", key, "https://elsewhere.example/token")
    _assert_oauth_error(await request_token(secure_client, assertion, [CLAIM_RESPONSE_READ]), 401, "invalid_client")


async def test_a_reused_jti_is_refused(secure_app: FastAPI, secure_client: httpx.AsyncClient) -> None:
    key = await register_client(secure_app, "ehr-a", [CLAIM_RESPONSE_READ])
    assert (await _token(secure_client, secure_app, key, jti="once")).status_code == 200
    _assert_oauth_error(await _token(secure_client, secure_app, key, jti="once"), 401, "invalid_client")


async def test_a_bad_signature_is_refused(secure_app: FastAPI, secure_client: httpx.AsyncClient) -> None:
    await register_client(secure_app, "ehr-a", [CLAIM_RESPONSE_READ], key=client_key("RS384"))
    impostor = client_key("RS384", kid="other")
    impostor = ClientKey(private_key=impostor.private_key, alg="RS384", kid="test-key")
    _assert_oauth_error(await _token(secure_client, secure_app, impostor), 401, "invalid_client")


async def test_symmetric_and_unsigned_assertions_are_refused(
    secure_app: FastAPI, secure_client: httpx.AsyncClient
) -> None:
    await register_client(secure_app, "ehr-a", [CLAIM_RESPONSE_READ])
    now = int(time.time())
    claims = {"iss": "ehr-a", "sub": "ehr-a", "aud": token_url(secure_app), "exp": now + 60, "jti": "j"}
    for assertion in (jwt.encode(claims, "k" * 40, algorithm="HS256"), jwt.encode(claims, "", algorithm="none")):
        response = await request_token(secure_client, assertion, [CLAIM_RESPONSE_READ])
        _assert_oauth_error(response, 401, "invalid_client")


async def test_an_unknown_client_is_refused(secure_app: FastAPI, secure_client: httpx.AsyncClient) -> None:
    _assert_oauth_error(await _token(secure_client, secure_app, client_key()), 401, "invalid_client")


async def test_a_disabled_client_gets_no_token_and_its_tokens_stop_working(
    secure_app: FastAPI, secure_client: httpx.AsyncClient
) -> None:
    token = await token_for(secure_client, secure_app, "ehr-a", [CLAIM_RESPONSE_READ])
    runtime: Runtime = secure_app.state.runtime
    async with runtime.sessions() as session:
        await set_enabled(session, "ehr-a", False)
        await session.commit()
    _assert_outcome(await secure_client.get(PROBE, headers=bearer(token)), 401, "login")
    _assert_oauth_error(await _token(secure_client, secure_app, client_key()), 401, "invalid_client")


async def test_a_missing_scope_is_403(secure_app: FastAPI, secure_client: httpx.AsyncClient) -> None:
    token = await token_for(secure_client, secure_app, "ehr-a", [JOBS_READ])
    _assert_outcome(await secure_client.get(PROBE, headers=bearer(token)), 403, "forbidden")
    ops = await secure_client.get("/ops/_probe", headers=bearer(token))
    assert ops.status_code == 200


async def test_a_missing_scope_outside_fhir_is_problem_json(
    secure_app: FastAPI, secure_client: httpx.AsyncClient
) -> None:
    token = await token_for(secure_client, secure_app, "ehr-a", [CLAIM_RESPONSE_READ])
    response = await secure_client.get("/ops/_probe", headers=bearer(token))
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


async def test_only_allowed_scopes_are_granted(secure_app: FastAPI, secure_client: httpx.AsyncClient) -> None:
    key = await register_client(secure_app, "ehr-a", [CLAIM_RESPONSE_READ])
    assertion = client_assertion("ehr-a", key, token_url(secure_app))
    response = await request_token(secure_client, assertion, [CLAIM_RESPONSE_READ, JOBS_READ, "ops/admin"])
    assert response.json()["scope"] == CLAIM_RESPONSE_READ
    assertion = client_assertion("ehr-a", key, token_url(secure_app))
    _assert_oauth_error(await request_token(secure_client, assertion, [JOBS_READ]), 400, "invalid_scope")


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"client_assertion_type": "urn:other"}, "invalid_client"),
        ({"client_assertion": ""}, "invalid_client"),
    ],
)
async def test_malformed_token_requests_get_oauth_errors(
    secure_app: FastAPI, secure_client: httpx.AsyncClient, form: dict[str, str], error: str
) -> None:
    key = await register_client(secure_app, "ehr-a", [CLAIM_RESPONSE_READ])
    assertion = client_assertion("ehr-a", key, token_url(secure_app))
    response = await request_token(secure_client, assertion, [CLAIM_RESPONSE_READ], **form)
    assert response.json()["error"] == error


async def test_a_json_token_request_is_invalid_request(secure_client: httpx.AsyncClient) -> None:
    response = await secure_client.post("/auth/token", json={"grant_type": "client_credentials"})
    _assert_oauth_error(response, 400, "invalid_request")
