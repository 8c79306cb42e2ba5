"""A read-only database (a PostgreSQL standby or read-only transactions, a SQLite file opened read-only):
`$submit` and `/auth/token` answer 503 with Retry-After (OperationOutcome / problem+json), nothing is
stored, and `/readyz` reports not ready."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from app.main import create_app
from app.store import migrate
from app.store.database import create_engine
from tests.support.auth import bearer, client_assertion, client_key, request_token, token_for, token_url
from tests.support.bundles import pas_request
from tests.support.databases import BACKENDS, _plain_dsn, fresh_database, postgres_admin_url
from tests.support.secure import secure_settings_for

SCOPES = ["system/Claim.write", "system/ClaimResponse.read"]


@dataclass
class ReadOnly:
    app: FastAPI
    http: httpx.AsyncClient
    token: str


async def _read_only(url: str) -> str:
    """The URL of the same database, from now on refusing writes."""
    if url.startswith("sqlite"):
        return url.replace("sqlite+aiosqlite:///", "sqlite+aiosqlite:///file:") + "?mode=ro&uri=true"
    connection = await asyncpg.connect(_plain_dsn(postgres_admin_url() or ""))
    try:
        await connection.execute(f'ALTER DATABASE "{make_url(url).database}" SET default_transaction_read_only = on')
    finally:
        await connection.close()
    return url


@pytest.fixture(params=BACKENDS)
async def read_only(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ReadOnly]:
    if request.param == "postgresql" and postgres_admin_url() is None:
        pytest.skip("PostgreSQL tests need EPA_TEST_POSTGRES_URL")
    async with fresh_database(request.param, tmp_path) as url:
        engine = create_engine(url)
        await migrate.upgrade(engine)
        await engine.dispose()
        writable = create_app(secure_settings_for(url, tmp_path))
        async with writable.router.lifespan_context(writable), _client(writable) as http:
            token = await token_for(http, writable, "clinic", SCOPES)
        app = create_app(secure_settings_for(await _read_only(url), tmp_path, embedded_worker=False))
        async with app.router.lifespan_context(app), _client(app) as http:
            yield ReadOnly(app, http, token)


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_submit_to_a_read_only_database_is_503_with_retry_after(read_only: ReadOnly) -> None:
    response = await read_only.http.post(
        "/fhir/Claim/$submit",
        content=orjson.dumps(pas_request("99212", tag="ro")),
        headers={**bearer(read_only.token), "content-type": "application/fhir+json"},
    )
    assert response.status_code == 503
    assert int(response.headers["retry-after"]) > 0
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == "transient"


async def test_a_token_from_a_read_only_database_is_503_with_retry_after(read_only: ReadOnly) -> None:
    assertion = client_assertion("clinic", client_key(), token_url(read_only.app))
    response = await request_token(read_only.http, assertion, SCOPES)
    assert response.status_code == 503
    assert int(response.headers["retry-after"]) > 0
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_readyz_is_not_ready_while_writes_fail(read_only: ReadOnly) -> None:
    response = await read_only.http.get("/readyz")
    assert response.status_code == 503
    assert "refuses writes" in response.text
    assert int(response.headers["retry-after"]) > 0
