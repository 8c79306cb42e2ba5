"""Lease extension that names the jobs it extended (the worker's heartbeat tells a lost lease from a
job that simply ended while the statement ran). Nothing here commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.jobs.repository import JobState
from app.store.models import Job


async def extend_leases(
    session: AsyncSession, job_ids: Sequence[int], *, worker_id: str, now: datetime, lease: timedelta
) -> set[int]:
    """Extend the leases `worker_id` still holds among `job_ids`; returns the ids it still holds."""
    if not job_ids:
        return set()
    result = await session.execute(
        update(Job)
        .where(Job.id.in_(job_ids), Job.state == JobState.RUNNING.value, Job.locked_by == worker_id)
        .values(lease_until=now + lease, updated_at=now)
        .returning(Job.id)
        .execution_options(synchronize_session=False)
    )
    return set(result.scalars())
