"""Operations on the job queue: list (dead letters first of all), read one, retry a dead one."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from app.api.deps import RuntimeDep, SessionDep
from app.api.params import RowId
from app.api.security import require
from app.jobs.queries import MAX_PAGE, JobFilter, get_job, list_jobs, retry_job
from app.jobs.repository import JobState
from app.security.principal import JOBS_READ, JOBS_WRITE, Principal
from app.store.models import Job

router = APIRouter(prefix="/jobs", tags=["operations"])


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


ReadPrincipal = Annotated[Principal, require(JOBS_READ)]
WritePrincipal = Annotated[Principal, require(JOBS_WRITE)]


@router.get("", summary="Jobs, newest first (e.g. ?state=dead for the dead letters)")
async def jobs_index(
    session: SessionDep,
    principal: ReadPrincipal,
    state: JobState | None = None,
    kind: Annotated[str | None, Query(max_length=64)] = None,
    authorization_id: uuid.UUID | None = None,
    cursor: Annotated[str | None, Query(max_length=32, description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> JobList:
    page = await list_jobs(
        session,
        client_id=principal.scope_client_id,
        where=JobFilter(state=state, kind=kind, authorization_id=authorization_id),
        cursor=cursor,
        limit=limit,
    )
    return JobList(jobs=[JobView.of(job) for job in page.jobs], next_cursor=page.next_cursor)


@router.get("/{job_id}", summary="One job")
async def job_detail(job_id: RowId, session: SessionDep, principal: ReadPrincipal) -> JobView:
    return JobView.of(await get_job(session, job_id, client_id=principal.scope_client_id))


@router.post("/{job_id}/retry", summary="Queue a dead job again, attempts reset, to run now (409 unless dead)")
async def job_retry(job_id: RowId, runtime: RuntimeDep, session: SessionDep, principal: WritePrincipal) -> JobView:
    job = await retry_job(session, job_id, client_id=principal.scope_client_id, now=runtime.clock())
    return JobView.of(job)
