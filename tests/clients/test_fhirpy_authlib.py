"""The service driven as EHR developers drive it: authlib (client credentials, private_key_jwt) for the token,
fhirpy's async client for the FHIR API, over a real loopback server, on both backends."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oauth2.rfc7523 import PrivateKeyJWT, private_key_jwt_sign
from cryptography.hazmat.primitives import serialization
from fastapi import FastAPI
from fhirpy import AsyncFHIRClient
from fhirpy.base.exceptions import ResourceNotFound
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy.ext.asyncio import AsyncEngine

from app.security.principal import AUTHORIZATIONS_WRITE
from app.settings import Settings
from tests.support.auth import Algorithm, client_key, register_client
from tests.support.bundles import pas_request
from tests.support.live import serving_app
from tests.support.pas import review_actions
from tests.support.processes import free_port
from tests.support.receiver import running_receiver
from tests.support.secure import SIGNING_KEY
from tests.support.subscriptions import subscription

SCOPES = "system/Claim.c system/ClaimResponse.rs system/Subscription.cruds"
REGISTERED = ["system/Claim.write", "system/ClaimResponse.read", "system/Subscription.*"]


class SmartPrivateKeyJWT(PrivateKeyJWT):  # type: ignore[misc]  # the recipe of docs/security.md
    """private_key_jwt as SMART Backend Services asks: `exp` five minutes ahead at most, a fresh `jti` each time."""

    def sign(self, auth: Any, token_endpoint: str) -> Any:
        return private_key_jwt_sign(
            auth.client_secret,
            client_id=auth.client_id,
            token_endpoint=token_endpoint,
            alg=self.alg,
            header=self.headers,
            expires_in=300,
        )


@pytest.fixture
async def live(database_url: str, tmp_path: Path, engine: AsyncEngine) -> AsyncIterator[tuple[FastAPI, str]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings(
        database_url=database_url,
        development=True,  # for the http loopback receiver; every request here carries a verified token
        token_signing_key=SIGNING_KEY,
        public_base_url=base,
        data_dir=tmp_path,
        embedded_worker=False,
        webhook_allow_private_targets=True,
        webhook_timeout_seconds=2.0,
        _env_file=None,
    )
    async with serving_app(settings, port) as app:
        yield app, base


def _private_key(alg: Algorithm) -> RSAKey | ECKey:
    pem = client_key(alg).private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return RSAKey.import_key(pem) if alg == "RS384" else ECKey.import_key(pem)


async def _token(app: FastAPI, base: str, alg: Algorithm = "RS384", *, extra: tuple[str, ...] = ()) -> str:
    client_id = f"ehr-{alg.lower()}-{uuid.uuid4().hex[:6]}"
    await register_client(app, client_id, [*REGISTERED, *extra], key=client_key(alg))
    token_url = f"{base}/auth/token"
    auth = SmartPrivateKeyJWT(token_url, alg=alg, headers={"kid": client_key(alg).kid})
    scopes = " ".join([SCOPES, *extra])
    async with AsyncOAuth2Client(
        client_id, _private_key(alg), token_endpoint_auth_method=auth, scope=scopes, timeout=10
    ) as oauth:
        token = await oauth.fetch_token(token_url, grant_type="client_credentials")
    assert token["token_type"].lower() == "bearer"
    assert set(token["scope"].split()) == set(scopes.split())
    assert token["expires_at"] > time.time()
    access: str = token["access_token"]
    return access


@pytest.mark.parametrize("alg", ["RS384", "ES384"])
async def test_authlib_gets_a_token_with_private_key_jwt(live: tuple[FastAPI, str], alg: Algorithm) -> None:
    app, base = live
    token = await _token(app, base, alg)
    async with httpx.AsyncClient() as http:
        metadata = await http.get(f"{base}/fhir/ClaimResponse", headers={"Authorization": f"Bearer {token}"})
    assert metadata.status_code == 200


async def test_fhirpy_drives_metadata_submit_read_search_and_paging(live: tuple[FastAPI, str]) -> None:
    app, base = live
    fhir = AsyncFHIRClient(f"{base}/fhir", authorization=f"Bearer {await _token(app, base)}")
    metadata = await fhir.execute("metadata", method="get")
    assert metadata["resourceType"] == "CapabilityStatement"
    submitted = []
    for n in range(5):
        bundle = await fhir.execute(
            "Claim/$submit", method="post", data=pas_request("99212", member="M-FP", tag=f"fp{n}")
        )
        assert bundle["entry"][0]["resource"]["resourceType"] == "ClaimResponse"
        submitted.append(bundle["entry"][0]["resource"]["id"])
    read = await fhir.reference("ClaimResponse", submitted[0]).to_resource()
    assert read["id"] == submitted[0]
    found = await fhir.resources("ClaimResponse").search(identifier="CLAIM-fp1").fetch()
    assert [r["id"] for r in found] == [submitted[1]]
    system_found = (
        await fhir.resources("ClaimResponse").search(identifier="http://provider.example.org/claims|CLAIM-fp2").fetch()
    )
    assert [r["id"] for r in system_found] == [submitted[2]]
    pages = fhir.resources("ClaimResponse").search(**{"patient.identifier": "M-FP"}).limit(2)
    assert await pages.count() == 5
    assert sorted(r["id"] for r in await pages.fetch_all()) == sorted(submitted)


async def test_fhirpy_refresh_brings_a_claim_responses_new_version_after_a_cancel(live: tuple[FastAPI, str]) -> None:
    app, base = live
    token = await _token(app, base, extra=(AUTHORIZATIONS_WRITE,))  # the practice's operations tool cancels
    fhir = AsyncFHIRClient(f"{base}/fhir", authorization=f"Bearer {token}")
    submitted = await fhir.execute("Claim/$submit", method="post", data=pas_request("99212", "99211", tag="fp-refresh"))
    response = await fhir.reference("ClaimResponse", submitted["entry"][0]["resource"]["id"]).to_resource()
    before = response["meta"]["versionId"]
    assert _review_actions(response) == {1: "A1", 2: "A1"}
    async with httpx.AsyncClient() as http:
        cancelled = await http.post(
            f"{base}/authorizations/{response['id']}/cancel", headers={"Authorization": f"Bearer {token}"}
        )
    assert cancelled.status_code == 200, cancelled.text

    await response.refresh()
    assert int(response["meta"]["versionId"]) > int(before)
    assert _review_actions(response) == {1: "C", 2: "C"}
    assert response["outcome"] == "complete"
    read = await fhir.reference("ClaimResponse", response["id"]).to_resource()  # what a new read answers
    assert read["meta"] == response["meta"]


def _review_actions(resource: Any) -> dict[int, str]:
    return review_actions({"entry": [{"resource": resource}]})


async def test_fhirpy_creates_reads_refreshes_checks_and_deletes_a_subscription(live: tuple[FastAPI, str]) -> None:
    app, base = live
    fhir = AsyncFHIRClient(f"{base}/fhir", authorization=f"Bearer {await _token(app, base)}")
    async with running_receiver() as receiver:
        created = fhir.resource("Subscription", **subscription(receiver.url))
        await created.save()
        assert created["id"]
        assert created["meta"]["versionId"] == "1"
        await receiver.wait_for(1)  # the handshake, sent at once
    listed = await fhir.resources("Subscription").fetch_all()
    assert [s["id"] for s in listed] == [created["id"]]
    await created.refresh()
    assert created["status"] == "active"
    for method in ("get", "post"):
        status = await created.execute("$status", method=method)
        assert status["resourceType"] == "Bundle"
        assert status["entry"][0]["resource"]["resourceType"] == "Parameters"
    await created.delete()  # type: ignore[no-untyped-call]
    with pytest.raises(ResourceNotFound):
        await fhir.reference("Subscription", created["id"]).to_resource()
