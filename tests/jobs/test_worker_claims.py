"""When a worker with a doorbell claims: not after every job that ends while slots are free (what it
made due rang already), but again when one of its jobs is queued for later; and a lease that ended because its job
ended is not reported lost."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.jobs.contract import ClaimedJob, JobContext, JobOutcome, Reschedule
from app.jobs.loop import Worker
from app.jobs.repository import enqueue, utc_now
from app.jobs.wakeups import doorbell_of
from app.store.database import create_session_factory

SLOW_POLL = 120.0


class CountingWorker(Worker):
    claims = 0

    async def _claim(self, limit: int) -> tuple[list[ClaimedJob], datetime | None]:
        self.claims += 1
        return await super()._claim(limit)


async def _enqueue(engine: AsyncEngine, kind: str, count: int) -> None:
    async with create_session_factory(engine)() as session:
        for i in range(count):
            enqueue(session, kind, {"i": i})
        await session.commit()


async def test_jobs_ending_while_slots_are_free_cause_no_claim(engine: AsyncEngine) -> None:
    ended = 0

    async def quick(_job: JobContext) -> None:
        nonlocal ended
        ended += 1

    await _enqueue(engine, "quick", 3)
    worker = CountingWorker(
        create_session_factory(engine),
        {"quick": quick},
        poll_interval=SLOW_POLL,
        idle_backoff=SLOW_POLL,
        wakeups=doorbell_of(engine),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    async with asyncio.timeout(15):
        while ended < 3 or worker.in_hand:
            await asyncio.sleep(0.02)
    await asyncio.sleep(0.3)
    stop.set()
    await asyncio.wait_for(task, 15)
    assert worker.claims == 1


async def test_a_job_queued_again_for_soon_runs_again_long_before_the_poll(engine: AsyncEngine) -> None:
    runs: list[int] = []

    async def twice(job: JobContext) -> JobOutcome | None:
        runs.append(job.job_id)
        return Reschedule(after=timedelta(milliseconds=200)) if len(runs) == 1 else None

    await _enqueue(engine, "twice", 1)
    worker = Worker(
        create_session_factory(engine),
        {"twice": twice},
        poll_interval=SLOW_POLL,
        idle_backoff=SLOW_POLL,
        wakeups=doorbell_of(engine),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        async with asyncio.timeout(20):  # far below the poll: the worker's timer was set after the reschedule
            while len(runs) < 2:
                await asyncio.sleep(0.02)
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


async def test_a_heartbeat_meeting_jobs_that_just_ended_reports_no_lost_lease(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    beats: list[asyncio.Task[None]] = []
    release = asyncio.Event()

    async def quick(_job: JobContext) -> None:
        return None

    async def long(_job: JobContext) -> None:  # still running, its lease held, while the others end
        await release.wait()

    def observer(kind: str, _outcome: str) -> None:  # the job's completion is committed; its task ends next
        if kind == "quick":
            beats.append(asyncio.ensure_future(worker.heartbeat()))
            if len(beats) == 2:
                asyncio.get_running_loop().call_later(0.5, release.set)

    await _enqueue(engine, "long", 1)
    await _enqueue(engine, "quick", 2)
    worker = Worker(create_session_factory(engine), {"quick": quick, "long": long}, observer=observer, clock=utc_now)
    with caplog.at_level(logging.WARNING, logger="app.worker"):
        assert await worker.run_once() == 3
        await asyncio.gather(*beats)
    assert len(beats) == 2
    assert "leases lost" not in caplog.text
