"""Per-client rate limits (429 + Retry-After), the body-size limit (413), and development mode."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app
from app.security.principal import CLAIM_RESPONSE_READ
from app.security.ratelimit import RateLimiter
from tests.support.auth import bearer, token_for
from tests.support.secure import add_probe_routes, secure_settings_for


async def _serve(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        yield http


def test_the_rate_limiter_refills_over_time() -> None:
    limiter = RateLimiter(per_minute=60)
    assert all(limiter.acquire("a", now=0.0) is None for _ in range(60))
    assert limiter.acquire("a", now=0.0) == 1
    assert limiter.acquire("b", now=0.0) is None  # per client
    assert limiter.acquire("a", now=1.0) is None
    assert RateLimiter(per_minute=0).acquire("a") is None


async def test_a_client_over_its_rate_gets_429_with_retry_after(
    database_url: str, tmp_path: Path, engine: AsyncEngine
) -> None:
    app = create_app(secure_settings_for(database_url, tmp_path, rate_limit_per_minute=3))
    add_probe_routes(app)
    async for http in _serve(app):
        token_a = await token_for(http, app, "ehr-a", [CLAIM_RESPONSE_READ])
        token_b = await token_for(http, app, "ehr-b", [CLAIM_RESPONSE_READ])
        statuses = [(await http.get("/fhir/_probe/x", headers=bearer(token_a))).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        refused = await http.get("/fhir/_probe/x", headers=bearer(token_a))
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.json()["issue"][0]["code"] == "throttled"
        assert (await http.get("/fhir/_probe/x", headers=bearer(token_b))).status_code == 200


async def test_a_body_over_the_limit_is_413_declared_or_streamed(secure_client: httpx.AsyncClient) -> None:
    big = b"x" * (5 * 1024 * 1024 + 1)
    declared = await secure_client.post("/fhir/Claim/$submit", content=big)
    assert declared.status_code == 413
    assert declared.json()["resourceType"] == "OperationOutcome"

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(6):
            yield b"y" * (1024 * 1024)

    form = {"Content-Type": "application/x-www-form-urlencoded"}
    streamed = await secure_client.post("/auth/token", content=chunks(), headers=form)
    assert streamed.status_code == 413
    assert streamed.headers["content-type"] == "application/problem+json"


async def test_development_mode_without_a_token_is_the_development_principal(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    add_probe_routes(app)
    assert (await client.get("/fhir/_probe/x")).json()["client_id"] == "development"
    token = await token_for(client, app, "ehr-a", [CLAIM_RESPONSE_READ])
    assert (await client.get("/fhir/_probe/x", headers=bearer(token))).json()["client_id"] == "ehr-a"
    assert (await client.get("/fhir/_probe/x", headers=bearer("garbage"))).status_code == 401
