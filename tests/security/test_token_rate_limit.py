"""The token endpoint is rate limited per claimed client id and per client address (in this process)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app
from app.security.principal import CLAIM_WRITE
from tests.support.auth import client_assertion, register_client, request_token, token_url
from tests.support.secure import secure_settings_for


@pytest.fixture
async def limited_app(database_url: str, tmp_path: Path, engine: AsyncEngine) -> AsyncIterator[FastAPI]:
    settings = secure_settings_for(
        database_url, tmp_path, token_rate_limit_per_minute=3, token_rate_limit_per_address_per_minute=6
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
        # a forged assertion claiming the same client id is throttled too, before any key lookup
        forged = await request_token(http, client_assertion("ehr-a", key, "https://elsewhere/token"), [CLAIM_WRITE])
        assert forged.status_code == 429
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
    assert statuses[:6] == [401] * 6
    assert statuses[6:] == [429, 429]
    key = await register_client(limited_app, "ehr-c", [CLAIM_WRITE])
    async with _http(limited_app, "192.0.2.21") as http:  # another address still gets its tokens
        ok = await request_token(http, client_assertion("ehr-c", key, token_url(limited_app)), [CLAIM_WRITE])
        assert ok.status_code == 200
