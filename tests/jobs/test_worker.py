"""The worker: atomic handler writes, failures and backoff, rescheduling, leases, shutdown, scale-out."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.jobs.repository import Clock, enqueue, utc_now
from app.payers.errors import PayerUnavailable
from app.store.database import create_engine, create_session_factory
from app.store.models import Job
from app.worker import (
    Handler,
    JobContext,
    JobError,
    Reschedule,
    Worker,
    noop,
    running_worker,
)
from tests.support.clock import FakeClock
from tests.support.jobs import count_jobs, load_job
from tests.support.processes import epa_env

LEASE = timedelta(seconds=30)


def _worker(engine: AsyncEngine, handlers: dict[str, Handler], clock: FakeClock, **options: object) -> Worker:
    return Worker(
        create_session_factory(engine),
        handlers,
        worker_id="w1",
        clock=clock,
        lease=LEASE,
        **options,  # type: ignore[arg-type]
    )


async def _enqueue(
    engine: AsyncEngine,
    clock: Clock,
    kind: str,
    count: int = 1,
    payload: dict[str, Any] | None = None,
    **options: object,
) -> list[int]:
    async with create_session_factory(engine)() as session:
        jobs = [
            enqueue(session, kind, payload or {"i": i}, now=clock(), **options)  # type: ignore[arg-type]
            for i in range(count)
        ]
        await session.commit()
        return [job.id for job in jobs]


async def _eventually(
    check: Callable[[], Awaitable[bool]],
    seconds: float = 15,
    describe: Callable[[], Awaitable[str]] | None = None,
) -> None:
    """Poll `check` until it holds (bounded); raises if it never does, saying what `describe` sees then."""
    try:
        async with asyncio.timeout(seconds):
            while not await check():
                await asyncio.sleep(0.05)
    except TimeoutError:
        if describe is None:
            raise
        pytest.fail(f"not within {seconds} s: {await describe()}")


async def follow_up_then(job: JobContext, then: Callable[[], Awaitable[None]] | None = None) -> None:
    enqueue(job.session, "follow-up", {"after": job.job_id}, now=job.now())
    await job.session.flush()
    if then is not None:
        await then()


async def test_a_handlers_writes_commit_with_the_jobs_completion(engine: AsyncEngine) -> None:
    clock = FakeClock()
    [job_id] = await _enqueue(engine, clock, "work")
    assert await _worker(engine, {"work": follow_up_then}, clock).run_once() == 1
    assert (await load_job(engine, job_id)).state == "done"
    assert await count_jobs(engine, kind="follow-up", state="queued") == 1


async def test_a_failing_handlers_writes_roll_back_and_the_failure_is_recorded(engine: AsyncEngine) -> None:
    clock = FakeClock()

    async def boom() -> None:
        raise RuntimeError("member 12345 is unknown")  # a message that must not be recorded

    async def handler(job: JobContext) -> None:
        await follow_up_then(job, boom)

    [job_id] = await _enqueue(engine, clock, "work")
    await _worker(engine, {"work": handler}, clock).run_once()
    job = await load_job(engine, job_id)
    assert (job.state, job.attempts, job.last_error, job.locked_by) == ("queued", 1, "RuntimeError", None)
    assert job.run_at > clock()
    assert await count_jobs(engine, kind="follow-up") == 0


async def test_when_the_lease_is_lost_midway_the_handlers_writes_roll_back(engine: AsyncEngine) -> None:
    clock = FakeClock()

    async def stolen() -> None:  # another worker took the job after our lease expired
        async with create_session_factory(engine)() as other, other.begin():
            await other.execute(update(Job).values(locked_by="w2"))

    async def handler(job: JobContext) -> None:
        await stolen()  # before our writes: on SQLite a held write lock would block the thief
        await follow_up_then(job)

    [job_id] = await _enqueue(engine, clock, "work")
    await _worker(engine, {"work": handler}, clock).run_once()
    job = await load_job(engine, job_id)
    assert (job.state, job.locked_by) == ("running", "w2")
    assert await count_jobs(engine, kind="follow-up") == 0


async def test_retry_after_from_the_handler_is_honoured(engine: AsyncEngine) -> None:
    clock = FakeClock()

    async def busy(job: JobContext) -> None:
        raise JobError("payer busy", retry_after=timedelta(seconds=90))

    async def unavailable(job: JobContext) -> None:
        raise PayerUnavailable("down", retry_after=timedelta(minutes=10))

    [busy_id] = await _enqueue(engine, clock, "busy")
    [down_id] = await _enqueue(engine, clock, "down")
    await _worker(engine, {"busy": busy, "down": unavailable}, clock).run_once()
    busy_job, down_job = await load_job(engine, busy_id), await load_job(engine, down_id)
    assert (busy_job.run_at, busy_job.last_error) == (clock() + timedelta(seconds=90), "JobError: payer busy")
    assert down_job.run_at == clock() + timedelta(minutes=10)
    assert down_job.last_error == "PayerUnavailable: unreachable: down"


async def test_reschedule_runs_again_later_without_counting_a_failure(engine: AsyncEngine) -> None:
    clock = FakeClock()
    seen: list[tuple[int, int]] = []

    async def still_pended(job: JobContext) -> Reschedule | None:
        polls = int(job.payload.get("polls", 0)) + 1
        seen.append((polls, job.attempt))
        return Reschedule(after=timedelta(hours=1), payload={"polls": polls}) if polls < 3 else None

    [job_id] = await _enqueue(engine, clock, "poll")
    worker = _worker(engine, {"poll": still_pended}, clock)
    assert await worker.run_once() == 1
    job = await load_job(engine, job_id)
    assert (job.state, job.attempts, job.payload, job.run_at) == (
        "queued",
        0,
        {"polls": 1},
        clock() + timedelta(hours=1),
    )
    assert await worker.run_once() == 0
    for _ in range(2):
        clock.advance(timedelta(hours=1))
        assert await worker.run_once() == 1
    assert (await load_job(engine, job_id)).state == "done"
    assert seen == [(1, 1), (2, 1), (3, 1)]


async def test_an_unknown_kind_fails_clearly_and_ends_dead(engine: AsyncEngine) -> None:
    clock = FakeClock()
    [job_id] = await _enqueue(engine, clock, "mystery", max_attempts=3)
    worker = _worker(engine, {}, clock)
    for _ in range(3):
        assert await worker.run_once() == 1
        clock.advance(timedelta(hours=2))
    job = await load_job(engine, job_id)
    assert (job.state, job.attempts) == ("dead", 3)
    assert job.last_error == "UnknownJobKind: no handler for job kind 'mystery'"
    assert await worker.run_once() == 0


async def test_the_heartbeat_extends_the_lease_of_a_long_job(engine: AsyncEngine) -> None:
    clock = FakeClock()
    started, finish = asyncio.Event(), asyncio.Event()

    async def long(job: JobContext) -> None:
        started.set()
        await finish.wait()

    [job_id] = await _enqueue(engine, clock, "long")
    worker = _worker(engine, {"long": long}, clock)
    running = asyncio.create_task(worker.run_once())
    await asyncio.wait_for(started.wait(), 10)
    clock.advance(timedelta(seconds=25))
    await worker.heartbeat()
    assert (await load_job(engine, job_id)).lease_until == clock() + LEASE
    finish.set()
    assert await asyncio.wait_for(running, 10) == 1
    assert (await load_job(engine, job_id)).state == "done"


async def test_shutdown_finishes_jobs_within_the_grace_period_and_releases_the_rest(engine: AsyncEngine) -> None:
    clock = FakeClock()
    started = asyncio.Event()

    async def stuck(job: JobContext) -> None:
        started.set()
        await asyncio.Event().wait()

    [quick_id] = await _enqueue(engine, clock, "noop")
    [stuck_id] = await _enqueue(engine, clock, "stuck")
    worker = _worker(engine, {"noop": noop, "stuck": stuck}, clock, poll_interval=0.01, grace_period=0.2)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    await asyncio.wait_for(started.wait(), 10)
    stop.set()
    await asyncio.wait_for(running, 10)
    assert (await load_job(engine, quick_id)).state == "done"
    released = await load_job(engine, stuck_id)
    assert (released.state, released.attempts, released.locked_by, released.run_at) == ("queued", 0, None, clock())


async def test_running_worker_works_in_the_background_until_the_block_ends(engine: AsyncEngine) -> None:
    clock = FakeClock()
    ids = await _enqueue(engine, clock, "noop", count=5)
    worker = _worker(engine, {"noop": noop}, clock, poll_interval=0.01, batch_size=2)
    async with running_worker(worker):

        async def all_done() -> bool:
            return await count_jobs(engine, state="done") == len(ids)

        await _eventually(all_done)
    assert worker.in_hand == frozenset()


def _postgres_only(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("runs on PostgreSQL only: SKIP LOCKED claims shared by several workers")


async def test_two_workers_run_500_jobs_each_exactly_once(
    database_url: str, engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    _postgres_only(database_url)
    caplog.set_level(logging.WARNING, logger="app")
    clock = FakeClock()
    ids = await _enqueue(engine, clock, "count", count=500)
    runs: list[int] = []

    async def count(job: JobContext) -> None:
        runs.append(job.job_id)
        await asyncio.sleep(0)

    engines = [create_engine(database_url, pool_size=6) for _ in range(2)]
    workers = [
        Worker(
            create_session_factory(e),
            {"count": count},
            worker_id=f"w{i}",
            clock=clock,
            poll_interval=0.01,
            batch_size=5,
            concurrency=5,
        )
        for i, e in enumerate(engines)
    ]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(worker.run(stop)) for worker in workers]
    try:

        async def all_done() -> bool:
            return await count_jobs(engine, state="done") == 500

        async def where_they_are() -> str:
            async with engine.connect() as connection:
                rows = await connection.execute(
                    select(Job.state, Job.locked_by, Job.attempts, func.count(), func.min(Job.last_error)).group_by(
                        Job.state, Job.locked_by, Job.attempts
                    )
                )
                states = [tuple(row) for row in rows]
            hands = {worker.worker_id: sorted(worker.in_hand) for worker in workers}
            warnings = [(r.name, r.getMessage(), getattr(r, "error_type", None)) for r in caplog.records]
            return f"jobs (state, worker, attempts, count, error): {states}; in hand: {hands}; logged: {warnings}"

        # A generous bound (the run takes about a second): this test is about exactly-once, not speed.
        await _eventually(all_done, seconds=60, describe=where_they_are)
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 10)
        for e in engines:
            await e.dispose()
    assert sorted(runs) == sorted(ids)
    async with create_session_factory(engine)() as session:
        attempts = set((await session.scalars(select(Job.attempts))).all())
    assert attempts == {1}


async def test_a_killed_workers_job_is_finished_by_another_after_its_lease_expires(
    database_url: str, engine: AsyncEngine
) -> None:
    _postgres_only(database_url)
    # Real time here: a real worker process holds the job, with a 1-second lease it keeps alive.
    [job_id] = await _enqueue(engine, utc_now, "test.sleep", payload={"seconds": 60})
    process = _worker_process(database_url, EPA_WORKER_LEASE_SECONDS="1")
    try:

        async def taken() -> bool:
            return (await load_job(engine, job_id)).state == "running"

        await _eventually(taken)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
        if process.stderr is not None:
            process.stderr.close()
    first = await load_job(engine, job_id)
    assert first.locked_by is not None
    assert str(process.pid) in first.locked_by

    finished: list[int] = []

    async def quick(job: JobContext) -> None:
        finished.append(job.attempt)

    rescuer = Worker(
        create_session_factory(engine), {"test.sleep": quick}, worker_id="rescuer", lease=timedelta(seconds=1)
    )

    async def rescued() -> bool:
        await rescuer.run_once()
        return bool(finished)

    await _eventually(rescued)
    job = await load_job(engine, job_id)
    assert (job.state, job.attempts, finished) == ("done", 2, [2])


def _worker_process(database_url: str, **settings: str) -> subprocess.Popen[bytes]:
    env = {
        "EPA_DATABASE_URL": database_url,
        "EPA_DEVELOPMENT": "true",
        "EPA_WORKER_POLL_SECONDS": "0.05",
        "EPA_LOG_LEVEL": "warning",
        **settings,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "app", "worker"], env=epa_env(env), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


async def test_epa_worker_on_sigterm_releases_the_job_it_cannot_finish(database_url: str, engine: AsyncEngine) -> None:
    [job_id] = await _enqueue(engine, utc_now, "test.sleep", payload={"seconds": 60})
    process = _worker_process(database_url, EPA_WORKER_GRACE_SECONDS="0.2")
    try:

        async def taken() -> bool:
            return (await load_job(engine, job_id)).state == "running"

        await _eventually(taken)
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(10)
    assert process.returncode == 0, err.decode()
    job = await load_job(engine, job_id)
    assert (job.state, job.attempts, job.locked_by, job.lease_until) == ("queued", 0, None, None)
