"""What operations do with jobs: list, read, retry a dead one, run a queued one now. Every read is scoped to a client.

`client_id=None` means an admin (every client's jobs); otherwise a job of another client is
reported as missing, so existence never leaks.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.bounds import INT64_MAX
from app.errors import Conflict, InvalidRequest, NotFound
from app.jobs import repository
from app.jobs.repository import JobState, run_queued_now
from app.store.models import Job

MAX_PAGE = 200


@dataclass(frozen=True, slots=True)
class JobFilter:
    state: JobState | None = None
    kind: str | None = None
    authorization_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class JobPage:
    jobs: list[Job]
    next_cursor: str | None


def _scoped(statement: Select[Job], client_id: str | None) -> Select[Job]:
    return statement if client_id is None else statement.where(Job.client_id == client_id)


def _decode_cursor(cursor: str) -> int:
    try:
        value = int(cursor)
    except ValueError:
        raise InvalidRequest("malformed cursor") from None
    if not 1 <= value <= INT64_MAX:
        raise InvalidRequest("malformed cursor")
    return value


async def list_jobs(
    session: AsyncSession,
    *,
    client_id: str | None,
    where: JobFilter = JobFilter(),
    cursor: str | None = None,
    limit: int = 50,
) -> JobPage:
    """Newest first (by id); `next_cursor` continues after the last job of this page."""
    limit = max(1, min(limit, MAX_PAGE))
    statement = _scoped(select(Job), client_id)
    if where.state is not None:
        statement = statement.where(Job.state == where.state.value)
    if where.kind is not None:
        statement = statement.where(Job.kind == where.kind)
    if where.authorization_id is not None:
        statement = statement.where(Job.authorization_id == where.authorization_id)
    if cursor is not None:
        statement = statement.where(Job.id < _decode_cursor(cursor))
    rows = list((await session.scalars(statement.order_by(Job.id.desc()).limit(limit + 1))).all())
    more = len(rows) > limit
    page = rows[:limit]
    return JobPage(jobs=page, next_cursor=str(page[-1].id) if more else None)


async def get_job(session: AsyncSession, job_id: int, *, client_id: str | None) -> Job:
    job = await session.scalar(_scoped(select(Job).where(Job.id == job_id), client_id))
    if job is None:
        raise NotFound(f"job {job_id} not found")
    return job


async def retry_job(session: AsyncSession, job_id: int, *, client_id: str | None, now: datetime) -> Job:
    """A dead job goes back to the queue with its attempts reset, runnable at once (409 otherwise)."""
    statement = _scoped(select(Job).where(Job.id == job_id), client_id).with_for_update()
    job = await session.scalar(statement.execution_options(populate_existing=True))
    if job is None:
        raise NotFound(f"job {job_id} not found")
    if job.state != JobState.DEAD.value:
        raise Conflict(f"job {job_id} is {job.state}; only a dead job can be retried")
    job.state = JobState.QUEUED.value
    job.attempts = 0
    job.run_at = now
    job.lease_until = None
    job.locked_by = None
    job.updated_at = now
    await session.flush()
    repository.became_due(session)
    return job


async def run_job_now(session: AsyncSession, job_id: int, *, client_id: str | None, now: datetime) -> Job:
    """A queued job (waiting for its time or its backoff) becomes due at once, attempts kept (409 otherwise)."""
    statement = _scoped(select(Job).where(Job.id == job_id), client_id).with_for_update()
    job = await session.scalar(statement.execution_options(populate_existing=True))
    if job is None:
        raise NotFound(f"job {job_id} not found")
    if job.state != JobState.QUEUED.value:
        hint = "; retry it instead" if job.state == JobState.DEAD.value else ""
        raise Conflict(f"job {job_id} is {job.state}; only a queued job can be run now{hint}")
    await run_queued_now(session, [job_id], now=now)
    await session.refresh(job)
    return job
