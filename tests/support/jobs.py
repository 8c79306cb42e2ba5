"""Small helpers for job-queue tests: read a job back in a fresh session, count jobs."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.store.database import create_session_factory
from app.store.models import Job


async def load_job(engine: AsyncEngine, job_id: int) -> Job:
    async with create_session_factory(engine)() as session:
        job = await session.get(Job, job_id)
        assert job is not None, f"job {job_id} is missing"
        return job


async def count_jobs(engine: AsyncEngine, *, kind: str | None = None, state: str | None = None) -> int:
    statement = select(func.count()).select_from(Job)
    if kind is not None:
        statement = statement.where(Job.kind == kind)
    if state is not None:
        statement = statement.where(Job.state == state)
    async with engine.connect() as connection:
        return int((await connection.execute(statement)).scalar_one())
