"""Trusting CDS Clients (CDS Hooks 2.0): outside development mode a hook call signed by a registered EHR
is accepted; a bad signature, an unknown issuer, a wrong audience, an expired or a replayed JWT is 401;
a SMART access token keeps working."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt
import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI

from app.security.cds_client import is_cds_client_jwt
from app.security.principal import CLAIM_WRITE
from tests.support.auth import ClientKey, bearer, client_assertion, client_key, register_client, token_for, token_url
from tests.support.pas import load_example

SERVICE = "crd-order-sign"
HOOK = load_example(Path(__file__).resolve().parents[2] / "examples" / "cds-hooks" / "order-sign.json")
JSON = {"content-type": "application/json"}


def service_url(app: FastAPI, service: str = SERVICE) -> str:
    return token_url(app).removesuffix("/auth/token") + f"/cds-services/{service}"


def ehr_jwt(app: FastAPI, key: ClientKey, issuer: str = "ehr-cds", **claims: Any) -> str:
    """A JWT as an EHR signs it for a hook call: iss, aud = the service URL, exp, iat, jti, kid."""
    now = int(time.time())
    values: dict[str, Any] = {"aud": service_url(app), "exp": now + 60, "iat": now, "jti": uuid.uuid4().hex}
    values.update(claims)
    token = client_assertion(issuer, key, values.pop("aud"), **values)
    return token


async def call(http: httpx.AsyncClient, token: str) -> httpx.Response:
    return await http.post(f"/cds-services/{SERVICE}", content=orjson.dumps(HOOK), headers={**JSON, **bearer(token)})


@pytest.fixture
async def ehr_key(secure_app: FastAPI) -> ClientKey:
    return await register_client(secure_app, "ehr-cds", [CLAIM_WRITE], key=client_key("ES384", kid="ehr-key-1"))


async def test_a_hook_call_signed_by_a_registered_ehr_is_answered(
    secure_app: FastAPI, secure_client: httpx.AsyncClient, ehr_key: ClientKey
) -> None:
    response = await call(secure_client, ehr_jwt(secure_app, ehr_key))
    assert response.status_code == 200, response.text
    assert response.json()["systemActions"]


async def test_an_unsigned_call_is_401(secure_client: httpx.AsyncClient) -> None:
    response = await secure_client.post(f"/cds-services/{SERVICE}", content=orjson.dumps(HOOK), headers=JSON)
    assert response.status_code == 401


@pytest.mark.parametrize("fault", ["signature", "issuer", "audience", "expired", "no-kid"])
async def test_a_bad_ehr_jwt_is_401(
    secure_app: FastAPI, secure_client: httpx.AsyncClient, ehr_key: ClientKey, fault: str
) -> None:
    now = int(time.time())
    if fault == "signature":  # another key under the registered kid
        token = ehr_jwt(secure_app, ClientKey(ec.generate_private_key(ec.SECP384R1()), "ES384", "ehr-key-1"))
    elif fault == "issuer":
        await register_client(secure_app, "someone-else", [CLAIM_WRITE], key=client_key("ES384", kid="x"))
        token = ehr_jwt(secure_app, ehr_key, issuer="nobody-registered")
    elif fault == "audience":
        token = ehr_jwt(secure_app, ehr_key, aud=service_url(secure_app, "crd-order-select"))
    elif fault == "expired":
        token = ehr_jwt(secure_app, ehr_key, exp=now - 120, iat=now - 300)
    else:
        token = ehr_jwt(secure_app, ClientKey(ehr_key.private_key, ehr_key.alg, kid=""))
    response = await call(secure_client, token)
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["resourceType"] == "OperationOutcome"


async def test_a_replayed_ehr_jwt_is_401(
    secure_app: FastAPI, secure_client: httpx.AsyncClient, ehr_key: ClientKey
) -> None:
    token = ehr_jwt(secure_app, ehr_key)
    assert (await call(secure_client, token)).status_code == 200
    again = await call(secure_client, token)
    assert again.status_code == 401
    assert "already used" in again.text


async def test_an_ehr_registered_without_claim_write_is_403(
    secure_app: FastAPI, secure_client: httpx.AsyncClient
) -> None:
    key = await register_client(secure_app, "ehr-reader", ["system/ClaimResponse.read"], key=client_key("ES384"))
    response = await call(secure_client, ehr_jwt(secure_app, key, issuer="ehr-reader"))
    assert response.status_code == 403


async def test_a_smart_access_token_keeps_working(secure_app: FastAPI, secure_client: httpx.AsyncClient) -> None:
    token = await token_for(secure_client, secure_app, "ehr-smart", [CLAIM_WRITE])
    response = await call(secure_client, token)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("token", "routed"),
    [
        (jwt.encode({"iss": "x"}, ec.generate_private_key(ec.SECP384R1()), algorithm="ES384"), True),
        (jwt.encode({"iss": "x"}, "k" * 32, algorithm="HS256"), False),  # the hub's own access tokens
        ("eyJhbGciOiJSUzM4NCJ9.bm90IGpzb24.c2ln", True),  # {"alg":"RS384"}: the check then refuses the rest
        ("", False),
        ("!!!.e30.sig", False),
        ("é.e30.sig", False),
        ("W10.e30.sig", False),  # a JSON array, not a header object
        ("bnVsbA", False),  # null
    ],
)
def test_only_a_header_naming_rs384_or_es384_routes_a_token_to_the_ehr_check(token: str, routed: bool) -> None:
    assert is_cds_client_jwt(token) is routed
