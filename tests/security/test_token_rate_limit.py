"""The token endpoint is rate limited per verified client, per client address, and for failed assertions
per address (in this process): forged assertions naming a real client never lock that client out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app
from app.security.principal import CLAIM_WRITE
from tests.support.auth import client_assertion, client_key, register_client, request_token, token_url
from tests.support.secure import secure_settings_for


@pytest.fixture
async def limited_app(database_url: str, tmp_path: Path, engine: AsyncEngine) -> AsyncIterator[FastAPI]:
    settings = secure_settings_for(
        database_url,
        tmp_path,
        token_rate_limit_per_minute=3,
        token_rate_limit_per_address_per_minute=6,
        token_failures_per_address_per_minute=4,
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


def _http(app: FastAPI, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_one_client_id_gets_429_with_retry_after_once_its_budget_is_spent(limited_app: FastAPI) -> None:
    key = await register_client(limited_app, "ehr-a", [CLAIM_WRITE])
    async with _http(limited_app, "192.0.2.10") as http:
        answers = [
            await request_token(http, client_assertion("ehr-a", key, token_url(limited_app)), [CLAIM_WRITE])
            for _ in range(4)
        ]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert answers[-1].json()["error"] == "temporarily_unavailable"
        assert int(answers[-1].headers["retry-after"]) >= 1
        # a forged assertion claiming the same client id is refused as forged (and counted against its address)
        forged = await request_token(http, client_assertion("ehr-a", key, "https://elsewhere/token"), [CLAIM_WRITE])
        assert forged.status_code == 401
    other = await register_client(limited_app, "ehr-b", [CLAIM_WRITE])
    async with _http(limited_app, "192.0.2.11") as http:
        fine = await request_token(http, client_assertion("ehr-b", other, token_url(limited_app)), [CLAIM_WRITE])
        assert fine.status_code == 200  # another client id is not affected


async def test_one_address_gets_429_whatever_client_ids_it_claims(limited_app: FastAPI) -> None:
    async with _http(limited_app, "192.0.2.20") as http:
        statuses = [
            (
                await http.post("/auth/token", data={"grant_type": "client_credentials", "client_assertion": f"x{n}"})
            ).status_code
            for n in range(8)
        ]
    assert statuses[:4] == [401] * 4  # failed assertions: 4 a minute from one address
    assert statuses[4:] == [429] * 4
    key = await register_client(limited_app, "ehr-c", [CLAIM_WRITE])
    async with _http(limited_app, "192.0.2.21") as http:  # another address still gets its tokens
        ok = await request_token(http, client_assertion("ehr-c", key, token_url(limited_app)), [CLAIM_WRITE])
        assert ok.status_code == 200


async def test_forged_assertions_naming_a_client_do_not_lock_it_out(limited_app: FastAPI) -> None:
    key = await register_client(limited_app, "ehr-d", [CLAIM_WRITE])
    forger = client_key(kid="forger-key")  # not the client's key: the signature does not verify
    async with _http(limited_app, "198.51.100.7") as http:
        forged = [
            (await request_token(http, client_assertion("ehr-d", forger, token_url(limited_app)), [CLAIM_WRITE]))
            for _ in range(6)
        ]
    assert [f.status_code for f in forged] == [401, 401, 401, 401, 429, 429]  # the forger's address is throttled
    async with _http(limited_app, "192.0.2.30") as http:  # the real client, from its own address
        answers = [
            await request_token(http, client_assertion("ehr-d", key, token_url(limited_app)), [CLAIM_WRITE])
            for _ in range(4)
        ]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]  # its own verified budget only
