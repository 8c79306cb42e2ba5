"""Worker liveness without traffic: a worker says it is alive every few seconds, idle or busy.

`/readyz`'s `worker.active` and `epa_worker_last_activity_age_seconds` read the newest heartbeat (or
job activity), so a quiet night with no jobs does not look like a stopped worker, and a worker that
stopped (or cannot reach the database) stops beating and its age grows: the alert rule in
docs/operations.md fires. Separate from the job loop on purpose: it beats while the loop waits.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.jobs import repository as queue
from app.jobs.repository.heartbeats import beat

log = logging.getLogger(__name__)

MAX_INTERVAL_SECONDS = 15.0


def interval_for(lease_seconds: float) -> float:
    """Beat a few times per lease (at most every 15 s), so "active" (3 leases) never flickers."""
    return min(MAX_INTERVAL_SECONDS, lease_seconds / 4)


async def _beat_once(
    sessions: async_sessionmaker[AsyncSession], worker_id: str, clock: queue.Clock, started: datetime
) -> None:
    async with sessions() as session, session.begin():
        await beat(session, worker_id, now=clock(), started_at=started)


async def keep_beating(
    sessions: async_sessionmaker[AsyncSession], worker_id: str, clock: queue.Clock, *, every: float
) -> None:
    """Beat now and every `every` seconds until cancelled; a failed beat is logged and tried again."""
    started = clock()
    while True:
        try:
            await _beat_once(sessions, worker_id, clock, started)
        except Exception as exc:  # the database may be away (or read-only): the age grows, the alert fires
            log.warning("worker heartbeat failed", extra={"worker_id": worker_id, "error_type": type(exc).__name__})
        await asyncio.sleep(every)


@asynccontextmanager
async def beating(
    sessions: async_sessionmaker[AsyncSession], worker_id: str, clock: queue.Clock, *, every: float
) -> AsyncIterator[None]:
    """Heartbeats for the duration of the block (the worker's life)."""
    task = asyncio.create_task(keep_beating(sessions, worker_id, clock, every=every), name=f"heartbeat {worker_id}")
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
