from __future__ import annotations

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app import __version__
from app.store import migrate


async def test_healthz_answers_without_touching_anything(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__}
    assert response.headers["x-request-id"]


async def test_readyz_reports_the_current_schema(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


async def test_readyz_is_503_problem_when_schema_is_behind(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    try:
        response = await client.get("/readyz")
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert "older" in response.json()["detail"]
    finally:
        async with engine.begin() as connection:
            await connection.execute(
                text("UPDATE alembic_version SET version_num = :head"), {"head": migrate.head_revision()}
            )


async def test_unknown_route_is_problem_json_outside_fhir(client: httpx.AsyncClient) -> None:
    response = await client.get("/nope")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404


async def test_unknown_route_is_operation_outcome_under_fhir(client: httpx.AsyncClient) -> None:
    response = await client.get("/fhir/Nope/1")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/fhir+json"
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == "not-found"


async def test_openapi_docs_are_served(client: httpx.AsyncClient) -> None:
    assert (await client.get("/docs")).status_code == 200
    assert (await client.get("/openapi.json")).json()["info"]["title"] == "ePA hub"


async def test_readyz_says_how_old_the_queue_head_is_and_whether_a_worker_was_seen(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    from datetime import UTC, datetime, timedelta

    from app.jobs.repository import enqueue
    from app.store.database import create_session_factory

    idle = (await client.get("/readyz")).json()["worker"]
    assert idle == {"last_activity_at": None, "active": False, "oldest_queued_job_seconds": 0.0}
    now = datetime.now(UTC)
    async with create_session_factory(engine)() as session:
        enqueue(session, "noop", {}, now=now - timedelta(minutes=5))
        done = enqueue(session, "noop", {}, now=now - timedelta(minutes=10))
        done.state, done.updated_at = "done", now - timedelta(seconds=30)
        await session.commit()
    worker = (await client.get("/readyz")).json()["worker"]
    assert worker["active"] is True
    assert worker["last_activity_at"] is not None
    assert 290 <= worker["oldest_queued_job_seconds"] < 400
