"""The operations API for jobs: dead letters listed, read, retried; rows scoped to the caller's client."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.api.security import current_principal
from app.jobs.repository import enqueue
from app.security.principal import JOBS_READ, Principal
from app.store.database import create_session_factory
from app.store.models import Job
from app.worker import JobContext, Worker
from tests.support.clock import FakeClock
from tests.support.jobs import load_job

DEV = "development"  # the development principal's client id


async def _job(engine: AsyncEngine, client_id: str | None, *, state: str = "queued", kind: str = "noop") -> int:
    async with create_session_factory(engine)() as session:
        job = enqueue(session, kind, {"x": 1}, client_id=client_id)
        await session.flush()
        if state != "queued":
            await session.execute(update(Job).where(Job.id == job.id).values(state=state, last_error="Boom"))
        await session.commit()
        return job.id


def _as(app: FastAPI, principal: Principal) -> None:
    async def override() -> Principal:
        return principal

    app.dependency_overrides[current_principal] = override


async def test_dead_letters_are_listed_newest_first_in_pages_of_the_callers_client(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    older = await _job(engine, DEV, state="dead")
    newer = await _job(engine, DEV, state="dead")
    await _job(engine, DEV)
    await _job(engine, "someone-else", state="dead")

    first = await client.get("/jobs", params={"state": "dead", "limit": 1})
    assert first.status_code == 200
    assert [job["id"] for job in first.json()["jobs"]] == [newer]
    assert first.json()["jobs"][0]["last_error"] == "Boom"
    cursor = first.json()["next_cursor"]
    rest = await client.get("/jobs", params={"state": "dead", "limit": 1, "cursor": cursor})
    assert [job["id"] for job in rest.json()["jobs"]] == [older]
    assert rest.json()["next_cursor"] is None

    assert (await client.get("/jobs", params={"state": "dying"})).status_code == 422
    bad_cursor = await client.get("/jobs", params={"cursor": "abc"})
    assert bad_cursor.status_code == 400
    assert bad_cursor.headers["content-type"] == "application/problem+json"


async def test_a_job_of_another_client_answers_404_but_an_admin_sees_every_job(
    app: FastAPI, client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    mine = await _job(engine, DEV)
    theirs = await _job(engine, "someone-else")
    system = await _job(engine, None)
    assert (await client.get(f"/jobs/{mine}")).json()["client_id"] == DEV
    for hidden in (theirs, system, 999_999):
        response = await client.get(f"/jobs/{hidden}")
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"

    _as(app, Principal(client_id="ops", scopes=frozenset(), admin=True))
    listed = await client.get("/jobs")
    assert [job["id"] for job in listed.json()["jobs"]] == [system, theirs, mine]
    assert (await client.get(f"/jobs/{theirs}")).status_code == 200


async def test_retry_needs_the_write_scope(app: FastAPI, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    job_id = await _job(engine, DEV, state="dead")
    _as(app, Principal(client_id=DEV, scopes=frozenset({JOBS_READ})))
    assert (await client.get(f"/jobs/{job_id}")).status_code == 200
    assert (await client.post(f"/jobs/{job_id}/retry")).status_code == 403


async def test_a_job_that_keeps_failing_ends_dead_and_runs_again_after_a_retry(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    clock = FakeClock()
    healthy = False

    async def flaky(job: JobContext) -> None:
        if not healthy:
            raise ConnectionError("payer down")

    async with create_session_factory(engine)() as session:
        job = enqueue(session, "flaky", {}, client_id=DEV, max_attempts=2, now=clock())
        await session.commit()
        job_id = job.id
    worker = Worker(create_session_factory(engine), {"flaky": flaky}, worker_id="w1", clock=clock)
    for _ in range(2):
        assert await worker.run_once() == 1
        clock.advance(timedelta(minutes=5))
    listed = await client.get("/jobs", params={"state": "dead", "kind": "flaky"})
    [dead] = listed.json()["jobs"]
    assert (dead["id"], dead["attempts"], dead["last_error"]) == (job_id, 2, "ConnectionError")

    retried = await client.post(f"/jobs/{job_id}/retry")
    assert retried.status_code == 200
    assert (retried.json()["state"], retried.json()["attempts"]) == ("queued", 0)
    again = await client.post(f"/jobs/{job_id}/retry")
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"

    healthy = True
    assert await worker.run_once() == 1
    assert (await load_job(engine, job_id)).state == "done"
