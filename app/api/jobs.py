"""Operations on the job queue: list (dead letters first of all), read one, retry a dead one, run a queued one now."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from app.api.auditing import AuditDep
from app.api.deps import RuntimeDep, SessionDep
from app.api.params import RowId
from app.api.security import require
from app.jobs.views import MAX_PAGE, JobFilter, JobList, JobState, JobView, job_page, job_view, retried_job, run_now_job
from app.security.principal import JOBS_READ, JOBS_WRITE, Principal

router = APIRouter(prefix="/jobs", tags=["operations"])

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
    return await job_page(
        session,
        client_id=principal.scope_client_id,
        where=JobFilter(state=state, kind=kind, authorization_id=authorization_id),
        cursor=cursor,
        limit=limit,
    )


@router.get("/{job_id}", summary="One job")
async def job_detail(job_id: RowId, session: SessionDep, principal: ReadPrincipal) -> JobView:
    return await job_view(session, job_id, client_id=principal.scope_client_id)


@router.post("/{job_id}/retry", summary="Queue a dead job again, attempts reset, to run now (409 unless dead)")
async def job_retry(job_id: RowId, runtime: RuntimeDep, session: SessionDep, principal: WritePrincipal) -> JobView:
    return await retried_job(session, job_id, client_id=principal.scope_client_id, now=runtime.clock())


@router.post("/{job_id}/run-now", summary="Run a queued job now (its backoff skipped; 409 unless queued)")
async def job_run_now(
    job_id: RowId, runtime: RuntimeDep, session: SessionDep, principal: WritePrincipal, audit: AuditDep
) -> JobView:
    audit.record("job.run-now", "Job", [job_id])
    return await run_now_job(session, job_id, client_id=principal.scope_client_id, now=runtime.clock())
