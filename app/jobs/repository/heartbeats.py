"""The workers' heartbeats: one row per worker, written while it is idle too, so "alive" is not "busy"."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from app.store.models import WorkerHeartbeat

HEARTBEATS_KEPT = timedelta(days=7)  # a stopped worker's row is forgotten after this


async def beat(session: AsyncSession, worker_id: str, *, now: datetime, started_at: datetime) -> None:
    """Record that `worker_id` is alive at `now` (one row per worker); forget workers silent for a week."""
    result = await session.execute(
        update(WorkerHeartbeat).where(WorkerHeartbeat.worker_id == worker_id).values(beat_at=now)
    )
    assert isinstance(result, CursorResult)
    if not result.rowcount:
        session.add(WorkerHeartbeat(worker_id=worker_id[:128], started_at=started_at, beat_at=now))
    await session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.beat_at < now - HEARTBEATS_KEPT))
