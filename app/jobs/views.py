"""What the operations API shows of the queue: a job (`JobView`), a page of jobs (`JobList`), and the
reads and the retry that return them, each scoped to a client as `app.jobs.queries` is."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from app.jobs.queries import MAX_PAGE, JobFilter, get_job, list_jobs, retry_job, run_job_now
from app.jobs.repository import JobState
from app.store.models import Job

__all__ = [
    "MAX_PAGE",
    "JobFilter",
    "JobList",
    "JobState",
    "JobView",
    "job_page",
    "job_view",
    "retried_job",
    "run_now_job",
]


class JobView(BaseModel):
    id: int
    kind: str
    state: JobState
    client_id: str | None
    authorization_id: uuid.UUID | None
    payload: dict[str, Any]
    run_at: datetime
    attempts: int
    max_attempts: int
    lease_until: datetime | None
    locked_by: str | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, job: Job) -> JobView:
        return cls(
            id=job.id,
            kind=job.kind,
            state=JobState(job.state),
            client_id=job.client_id,
            authorization_id=job.authorization_id,
            payload=job.payload,
            run_at=job.run_at,
            attempts=job.attempts,
            max_attempts=job.max_attempts,
            lease_until=job.lease_until,
            locked_by=job.locked_by,
            last_error=job.last_error,
            created_at=job.created_at,
            updated_at=job.updated_at,
        )


class JobList(BaseModel):
    jobs: list[JobView]
    next_cursor: str | None


async def job_page(
    session: AsyncSession,
    *,
    client_id: str | None,
    where: JobFilter = JobFilter(),
    cursor: str | None = None,
    limit: int = 50,
) -> JobList:
    """Newest first; `next_cursor` continues after the last job of this page."""
    page = await list_jobs(session, client_id=client_id, where=where, cursor=cursor, limit=limit)
    return JobList(jobs=[JobView.of(job) for job in page.jobs], next_cursor=page.next_cursor)


async def job_view(session: AsyncSession, job_id: int, *, client_id: str | None) -> JobView:
    return JobView.of(await get_job(session, job_id, client_id=client_id))


async def retried_job(session: AsyncSession, job_id: int, *, client_id: str | None, now: datetime) -> JobView:
    """A dead job queued again, attempts reset, runnable at once (409 unless dead)."""
    return JobView.of(await retry_job(session, job_id, client_id=client_id, now=now))


async def run_now_job(session: AsyncSession, job_id: int, *, client_id: str | None, now: datetime) -> JobView:
    """A queued job made due at once, attempts kept (409 unless queued)."""
    return JobView.of(await run_job_now(session, job_id, client_id=client_id, now=now))
