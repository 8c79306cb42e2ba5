"""Queue many jobs of one kind in one multi-row INSERT (an event's fan-out to every endpoint).

The same rows `app.jobs.repository.enqueue` writes, without a unit-of-work object per job: one
statement, each new id back with its payload (in no particular order: the caller matches them by
payload, so neither backend needs to keep the rows' order). It rings the wake-up on commit like
`enqueue`.
Nothing here commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.jobs.repository import DEFAULT_MAX_ATTEMPTS, JobState, became_due
from app.store.models import Job


@dataclass(frozen=True, slots=True)
class NewJob:
    payload: Mapping[str, Any]
    run_at: datetime
    client_id: str | None = None
    authorization_id: uuid.UUID | None = None


async def enqueue_many(
    session: AsyncSession, kind: str, jobs: Sequence[NewJob], *, now: datetime, max_attempts: int = DEFAULT_MAX_ATTEMPTS
) -> list[tuple[int, dict[str, Any]]]:
    """Add queued jobs of `kind` in the caller's transaction; returns (id, payload) of each."""
    if not jobs:
        return []
    rows = [
        {
            "kind": kind,
            "state": JobState.QUEUED.value,
            "client_id": job.client_id,
            "authorization_id": job.authorization_id,
            "payload": dict(job.payload),
            "run_at": job.run_at,
            "attempts": 0,
            "max_attempts": max_attempts,
            "created_at": now,
            "updated_at": now,
        }
        for job in jobs
    ]
    result = await session.execute(insert(Job).returning(Job.id, Job.payload), rows)
    became_due(session)
    return [(job_id, payload) for job_id, payload in result.all()]
