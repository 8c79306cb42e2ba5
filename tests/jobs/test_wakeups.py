"""Idle workers wake at once when a due job is queued: in-process on both backends, across processes
(another engine, i.e. other connections) through PostgreSQL LISTEN/NOTIFY. Polling stays the fallback.

The workers here poll every two minutes, so a job done within the test's bound was started by a wake-up.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.jobs.contract import JobContext
from app.jobs.loop import Worker
from app.jobs.repository import JobState, enqueue, utc_now
from app.jobs.wakeups import Doorbell, doorbell_of, listening
from app.store.database import create_engine, create_session_factory
from tests.support.jobs import load_job

SLOW_POLL = 120.0
BOUND = 20.0  # far below SLOW_POLL; only the wake-up can make it


@asynccontextmanager
async def _idle_worker(engine: AsyncEngine, doorbell: Doorbell, done: asyncio.Event) -> AsyncIterator[Worker]:
    async def handler(_job: JobContext) -> None:
        done.set()

    worker = Worker(
        create_session_factory(engine),
        {"wake.test": handler},
        poll_interval=SLOW_POLL,
        idle_backoff=SLOW_POLL,
        lease=timedelta(seconds=30),
        wakeups=doorbell,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await asyncio.sleep(0.5)  # its first (empty) claim is behind it: it waits
    try:
        yield worker
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def _enqueue(engine: AsyncEngine, *, commit: bool = True, delay: timedelta = timedelta(0)) -> int:
    async with create_session_factory(engine)() as session:
        job = enqueue(session, "wake.test", {}, run_at=None if not delay else utc_now() + delay)
        await session.flush()
        job_id = job.id
        await (session.commit() if commit else session.rollback())
    return job_id


async def test_a_job_queued_in_this_process_wakes_an_idle_worker(engine: AsyncEngine) -> None:
    done = asyncio.Event()
    async with _idle_worker(engine, doorbell_of(engine), done):
        job_id = await _enqueue(engine)
        await asyncio.wait_for(done.wait(), BOUND)
    assert (await load_job(engine, job_id)).state == JobState.DONE.value


async def test_only_a_commit_of_a_job_due_now_rings(engine: AsyncEngine) -> None:
    doorbell = doorbell_of(engine)
    before = doorbell.rings
    await _enqueue(engine, commit=False)
    await _enqueue(engine, delay=timedelta(hours=1))
    assert doorbell.rings == before
    await _enqueue(engine)
    assert doorbell.rings == before + 1


async def test_a_job_queued_by_another_process_wakes_a_listening_worker(engine: AsyncEngine, database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite runs its worker in the API's process")
    other = create_engine(database_url, pool_size=1)  # another process's engine: its doorbell is not ours
    doorbell = Doorbell()
    done = asyncio.Event()
    try:
        async with listening(engine, doorbell), _idle_worker(engine, doorbell, done):
            job_id = await _enqueue(other)
            await asyncio.wait_for(done.wait(), BOUND)
        assert doorbell.rings >= 1
        assert (await load_job(engine, job_id)).state == JobState.DONE.value
    finally:
        await other.dispose()
