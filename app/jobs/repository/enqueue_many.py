"""Queue many jobs of one kind in one multi-row INSERT (an event's fan-out to every endpoint).

The same rows `app.jobs.repository.enqueue` writes, without a unit-of-work object per job: one
statement, each new id back with its payload (in no particular order: the caller matches them by
payload, so neither backend needs to keep the rows' order). It rings the wake-up on commit like
`enqueue`, unless every row is written already claimed: a job marked `claimed` is inserted leased to
the worker named by `lease` (running, its first attempt counted), which runs it itself once the
transaction commits (`app.jobs.contract.HandOver`), so nobody needs waking for it.
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
    claimed: bool = False  # written leased to the `lease`'s worker (see the module docstring)


@dataclass(frozen=True, slots=True)
class Lease:
    """A claim written with the job: the worker that holds it and until when (as `claim` writes it)."""

    worker_id: str
    until: datetime


async def enqueue_many(
    session: AsyncSession,
    kind: str,
    jobs: Sequence[NewJob],
    *,
    now: datetime,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    lease: Lease | None = None,
) -> list[tuple[int, dict[str, Any]]]:
    """Add jobs of `kind` in the caller's transaction, queued or (`claimed`) leased; returns (id, payload) of each."""
    if not jobs:
        return []
    if lease is None and any(job.claimed for job in jobs):
        raise ValueError("a job written claimed needs a lease")
    rows = [_row(kind, job, now=now, max_attempts=max_attempts, lease=lease) for job in jobs]
    result = await session.execute(_INSERT, rows, execution_options=_ONE_BATCH)
    if not all(job.claimed for job in jobs):
        became_due(session)
    return [(job_id, payload) for job_id, payload in result.all()]


# render_nulls: every row names the same columns (a job written claimed has a lease, a queued one NULLs), so
# the ORM's bulk insert sends one statement for the batch instead of one per set of non-NULL columns.
_INSERT = insert(Job).returning(Job.id, Job.payload)
_ONE_BATCH = {"render_nulls": True}


def _row(kind: str, job: NewJob, *, now: datetime, max_attempts: int, lease: Lease | None) -> dict[str, Any]:
    held = lease if job.claimed else None  # enqueue_many refused a claimed job without a lease
    return {
        "kind": kind,
        "state": JobState.RUNNING.value if held else JobState.QUEUED.value,
        "client_id": job.client_id,
        "authorization_id": job.authorization_id,
        "payload": dict(job.payload),
        "run_at": job.run_at,
        "attempts": 1 if held else 0,
        "max_attempts": max_attempts,
        "lease_until": held.until if held else None,
        "locked_by": held.worker_id if held else None,
        "created_at": now,
        "updated_at": now,
    }
