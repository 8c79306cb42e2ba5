"""The app's job handlers run by a real worker loop in a test, until the queue is quiet."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import and_, or_, select

from app.jobs.loop import Worker
from app.jobs.repository import JobState
from app.runtime import Runtime
from app.store.models import Job
from app.worker import default_handlers


async def _busy(runtime: Runtime, horizon: timedelta) -> bool:
    now = runtime.clock()
    async with runtime.sessions() as session:
        found = await session.scalar(
            select(Job.id)
            .where(
                or_(
                    Job.state == JobState.RUNNING.value,
                    and_(Job.state == JobState.QUEUED.value, Job.run_at <= now + horizon),
                )
            )
            .limit(1)
        )
    return found is not None


async def drain(runtime: Runtime, *, concurrency: int = 20, deadline: float = 25.0) -> None:
    """Run a worker loop until no job is running or due within 3 seconds (later clock jobs may stay queued)."""
    worker = Worker(
        runtime.sessions,
        default_handlers(runtime),
        batch_size=concurrency,
        concurrency=concurrency,
        poll_interval=0.02,
        idle_backoff=0.05,
        lease=timedelta(seconds=30),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        async with asyncio.timeout(deadline):
            while await _busy(runtime, timedelta(seconds=3)):
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task
