"""A pooled PostgreSQL connection whose server end went away costs no request (there is no pre-ping).

Connections the server closed while they sat in the pool (a restart, `pg_terminate_backend`, an
idle timeout) are dropped at checkout; one that dies after checkout fails its first statement, the
transaction rolls back, the answer is a 503 with Retry-After, and nothing is half-stored.
"""

from __future__ import annotations

import asyncio
import subprocess
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from app.store.models import Authorization
from tests.support.bundles import make_pas_bundle
from tests.support.pas import submit


def _bundle(tag: str) -> dict[str, Any]:
    return make_pas_bundle(
        items=1,
        claim_overrides={"identifier": [{"system": "http://provider.example.org/claims", "value": f"C-{tag}"}]},
        identifier={"system": "http://provider.example.org/bundles", "value": f"B-{tag}"},
    )


def _dsn(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _authorizations(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(Authorization))).scalar_one())


@pytest.fixture
def postgres_only(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite connections do not drop")
    return database_url


async def test_requests_after_the_server_dropped_the_pool_succeed(
    client: httpx.AsyncClient, postgres_only: str, engine: AsyncEngine
) -> None:
    assert (await submit(client, _bundle("0"))).status_code == 200
    killer = await asyncpg.connect(_dsn(postgres_only))
    try:
        killed = await killer.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            make_url(postgres_only).database,
        )
    finally:
        await killer.close()
    assert killed, "the service's pool held no connection to drop"
    await asyncio.sleep(0.3)  # the pooled sockets read the server's goodbye
    for n in range(1, 4):
        assert (await submit(client, _bundle(str(n)))).status_code == 200
    assert await _authorizations(engine) == 4


async def test_a_connection_lost_after_checkout_answers_503_and_stores_nothing(
    client: httpx.AsyncClient, app: FastAPI, postgres_only: str, engine: AsyncEngine
) -> None:
    sync_engine = app.state.runtime.engine.sync_engine
    url = make_url(postgres_only)

    def kill_after_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        # the server ends this very connection between checkout and its first statement (blocking on
        # purpose: the driver must not read the goodbye before it sends the statement)
        pid = dbapi_connection._connection.get_server_pid()
        subprocess.run(
            [
                "psql",
                "-h",
                url.host or "127.0.0.1",
                "-U",
                url.username or "postgres",
                "-d",
                url.database or "",
                "-qAtc",
                f"SELECT pg_terminate_backend({pid})",
            ],
            check=True,
            capture_output=True,
            timeout=20,
        )

    before = await _authorizations(engine)
    event.listen(sync_engine, "checkout", kill_after_checkout)
    try:
        response = await submit(client, _bundle("lost"))
    finally:
        event.remove(sync_engine, "checkout", kill_after_checkout)
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "1"
    assert response.json()["issue"][0]["code"] == "transient"
    assert await _authorizations(engine) == before
    again = await submit(client, _bundle("lost"))  # the client's retry of the same Bundle
    assert again.status_code == 200
    assert await _authorizations(engine) == before + 1
