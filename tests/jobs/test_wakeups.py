"""Idle workers wake at once when a due job is queued: in-process on both backends, across processes
(another engine, i.e. other connections) through PostgreSQL LISTEN/NOTIFY. Polling stays the fallback.

The workers here poll every two minutes, so a job done within the test's bound was started by a wake-up
(a ring, a notification, or the worker's own timer for the next due job or expiring lease).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.jobs.contract import JobContext
from app.jobs.loop import Worker
from app.jobs.repository import JobState, enqueue, run_now, utc_now
from app.jobs.repository.enqueue_many import Lease, NewJob, enqueue_many
from app.jobs.wakeups import Doorbell, doorbell_of, listening
from app.store.database import create_engine, create_session_factory
from app.store.models import Job
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


async def test_only_a_commit_rings(engine: AsyncEngine) -> None:
    doorbell = doorbell_of(engine)
    before = doorbell.rings
    await _enqueue(engine, commit=False)
    assert doorbell.rings == before
    await _enqueue(engine)
    await _enqueue(engine, delay=timedelta(hours=1))  # due later: idle workers set their timer for it
    assert doorbell.rings == before + 2


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


async def test_an_idle_worker_starts_a_job_when_it_becomes_due_without_a_ring(engine: AsyncEngine) -> None:
    done = asyncio.Event()
    async with _idle_worker(engine, doorbell_of(engine), done):
        job_id = await _enqueue(engine, delay=timedelta(seconds=1))  # the ring sets its timer
        await asyncio.wait_for(done.wait(), BOUND)
    assert (await load_job(engine, job_id)).state == JobState.DONE.value


async def test_an_idle_worker_takes_over_a_lease_when_it_expires(engine: AsyncEngine) -> None:
    job_id = await _enqueue(engine, delay=timedelta(hours=1))
    async with create_session_factory(engine)() as session, session.begin():  # a worker that died holding it
        await session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(
                state=JobState.RUNNING.value, attempts=1, locked_by="gone", lease_until=utc_now() + timedelta(seconds=1)
            )
        )
    done = asyncio.Event()
    async with _idle_worker(engine, Doorbell(), done):
        await asyncio.wait_for(done.wait(), BOUND)
    job = await load_job(engine, job_id)
    assert (job.state, job.attempts) == (JobState.DONE.value, 2)


async def test_a_job_made_due_by_another_process_wakes_a_listening_worker(
    engine: AsyncEngine, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite runs its worker in the API's process")
    job_id = await _enqueue(engine, delay=timedelta(hours=1))  # queued for later: no notification
    other = create_engine(database_url, pool_size=1)
    doorbell = Doorbell()
    done = asyncio.Event()
    try:
        async with listening(engine, doorbell), _idle_worker(engine, doorbell, done):
            async with create_session_factory(other)() as session, session.begin():  # e.g. a sibling settled
                assert await run_now(session, job_id, now=utc_now())
            await asyncio.wait_for(done.wait(), BOUND)
        assert doorbell.rings >= 1
    finally:
        await other.dispose()
    assert (await load_job(engine, job_id)).state == JobState.DONE.value


async def test_jobs_written_claimed_notify_no_listener_but_queued_ones_do(
    engine: AsyncEngine, database_url: str
) -> None:
    """A fan-out writes the deliveries it runs itself already leased: no worker should wake for them
    (migration 0020). Notifications arrive in commit order, so after the queued job's one has arrived,
    a count of one means the claimed jobs' commit sent none."""
    if not database_url.startswith("postgresql"):
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite runs its worker in the API's process")
    other = create_engine(database_url, pool_size=1)  # another process's engine: its doorbell is not ours
    doorbell = Doorbell()
    now = utc_now()
    try:
        async with listening(engine, doorbell):
            sessions = create_session_factory(other)
            async with sessions() as session, session.begin():
                lease = Lease(worker_id="this-worker", until=now + timedelta(seconds=30))
                claimed = [NewJob(payload={"n": n}, run_at=now, claimed=True) for n in range(3)]
                await enqueue_many(session, "wake.test", claimed, now=now, lease=lease)
            async with sessions() as session, session.begin():
                await enqueue_many(session, "wake.test", [NewJob(payload={"n": 3}, run_at=now)], now=now)
            await asyncio.wait_for(doorbell.wait(0), BOUND)
            await asyncio.sleep(0.2)  # a notification sent out of order would show here
        assert doorbell.rings == 1
    finally:
        await other.dispose()
