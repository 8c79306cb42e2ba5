"""The durable job queue: rows in `jobs`, written in the caller's transaction (transactional outbox).

    queued --claim--> running --complete--> done
      ^                 |  \\--fail (attempts < max)--> queued (run_at = now + backoff)
      |                 |   \\-fail (attempts >= max)--> dead --retry (ops)--> queued
      |                 \\--reschedule / release--> queued (not counted as a failure)
      \\-- a running job whose lease has expired is claimable again (its worker died)

Every statement here that makes a job runnable rings the wake-up through `became_due`, the one
place: `enqueue` (due now, or later: idle workers then set their timer), `move_queued`, `run_now`,
`run_queued_now` (operations' "run now"),
`reschedule` or `fail` with no delay, `release`, and the ops retry in `queries`. It rings this
process's workers on commit; the `jobs` triggers of migrations 0013 and 0020 (queued inserts) and 0017 (updates
that make a job due) NOTIFY the other processes' workers on PostgreSQL. What the running worker
itself moves later (a backoff, a hold) and a lease that expires need no ring: an idle worker
sleeps until `next_due` (read with every claim that comes back short), never past it.

`enqueue` only adds to the caller's session; the claim is one statement that locks with
`FOR UPDATE SKIP LOCKED` on PostgreSQL (ignored on SQLite, where writers are serialized), so any
number of workers can share the table. `attempts` counts claims; every state change after the
claim requires `locked_by` to still be the worker, so a worker that lost its lease changes nothing.
Nothing here commits: callers own their transactions.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Table, Update, and_, bindparam, func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from app.jobs.wakeups import ring_on_commit
from app.store.models import Job

Clock = Callable[[], datetime]
"""Returns the current time as an aware UTC datetime."""

DEFAULT_MAX_ATTEMPTS = 20
BACKOFF_BASE = timedelta(seconds=5)
BACKOFF_CAP = timedelta(hours=1)
ERROR_LIMIT = 2000  # characters of last_error kept


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    DEAD = "dead"


def utc_now() -> datetime:
    """The production clock."""
    return datetime.now(UTC)


def enqueue(
    session: AsyncSession,
    kind: str,
    payload: Mapping[str, Any],
    *,
    run_at: datetime | None = None,
    client_id: str | None = None,
    authorization_id: uuid.UUID | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    now: datetime | None = None,
) -> Job:
    """Add a queued job to the caller's unit of work; it exists only if the caller commits.

    `payload` must be JSON-able; `run_at` defaults to `now` (the caller's clock, else the wall clock).
    """
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    now = now or utc_now()
    job = Job(
        kind=kind,
        state=JobState.QUEUED.value,
        client_id=client_id,
        authorization_id=authorization_id,
        payload=dict(payload),
        run_at=run_at or now,
        attempts=0,
        max_attempts=max_attempts,
        created_at=now,
        updated_at=now,
    )
    session.add(job)
    became_due(session)  # due now: claimed at once; due later: idle workers set their timer for it
    return job


def became_due(session: AsyncSession) -> None:
    """A job became runnable now (or was queued for a time no worker knows yet) in this transaction:
    wake this process's workers once it commits (nothing on rollback)."""
    ring_on_commit(session)


def backoff(attempts: int, *, rng: Callable[[], float] = random.random) -> timedelta:
    """Delay before the next try after `attempts` failed tries: exponential, capped, "equal jitter".

    A few lines instead of a library: half the exponential delay is fixed, half is random, so
    retries of many jobs failing together spread out while the delay still grows.
    """
    exponent = min(max(attempts - 1, 0), 30)
    delay = min(BACKOFF_BASE * (1 << exponent), BACKOFF_CAP)
    return delay / 2 + delay / 2 * rng()


def _claimable(now: datetime) -> Any:
    return or_(
        and_(Job.state == JobState.QUEUED.value, Job.run_at <= now),
        and_(Job.state == JobState.RUNNING.value, Job.lease_until < now, Job.attempts < Job.max_attempts),
    )


async def bury_abandoned(session: AsyncSession, *, now: datetime, limit: int = 100) -> int:
    """Mark dead the expired leases that were already on their last attempt (their worker died)."""
    victims = (
        select(Job.id)
        .where(Job.state == JobState.RUNNING.value, Job.lease_until < now, Job.attempts >= Job.max_attempts)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    result = await session.execute(
        update(Job)
        .where(Job.id.in_(victims.scalar_subquery()))
        .values(
            state=JobState.DEAD.value,
            lease_until=None,
            locked_by=None,
            last_error="lease expired on the last attempt (the worker stopped)",
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result)


async def claim(session: AsyncSession, *, worker_id: str, now: datetime, lease: timedelta, limit: int) -> list[Job]:
    """Lease up to `limit` due jobs to `worker_id` in one statement; the caller commits at once."""
    if limit < 1:
        return []
    due = (
        select(Job.id)
        .where(_claimable(now))
        .order_by(Job.run_at, Job.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    result = await session.execute(
        update(Job)
        .where(Job.id.in_(due.scalar_subquery()))
        .values(
            state=JobState.RUNNING.value,
            attempts=Job.attempts + 1,
            lease_until=now + lease,
            locked_by=worker_id,
            updated_at=now,
        )
        .returning(Job)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return sorted(result.scalars().all(), key=lambda job: (job.run_at, job.id))


def _mine(job_id: int, worker_id: str) -> Any:
    return and_(Job.id == job_id, Job.state == JobState.RUNNING.value, Job.locked_by == worker_id)


def _rowcount(result: Any) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


async def _update_mine(session: AsyncSession, job_id: int, worker_id: str, **values: Any) -> bool:
    result = await session.execute(
        update(Job).where(_mine(job_id, worker_id)).values(**values).execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


JOBS = cast("Table", Job.__table__)
COMPLETE = (
    update(JOBS)
    .where(
        JOBS.c.id == bindparam("job"), JOBS.c.state == JobState.RUNNING.value, JOBS.c.locked_by == bindparam("worker")
    )
    .values(state=JobState.DONE.value, lease_until=None, locked_by=None, last_error=None, updated_at=bindparam("now"))
)
"""Mark a running job of this worker done; bound values: `completion_values`. Built once (every job ends with
it): a Core statement on the table, so neither the expression nor the ORM's bulk-update preparation is
redone per job. A hot handler may send it within a statement of its own (a common table expression with
`RETURNING`) and answer `Completed`."""


def completion_values(job_id: int, worker_id: str, now: datetime) -> dict[str, Any]:
    """The values of `COMPLETE`'s bound parameters."""
    return {"job": job_id, "worker": worker_id, "now": now}


async def complete(session: AsyncSession, job_id: int, *, worker_id: str, now: datetime) -> bool:
    """Mark done (in the handler's transaction); False when the lease was lost: roll back then."""
    result = await session.execute(COMPLETE, completion_values(job_id, worker_id, now))
    return _rowcount(result) == 1


async def reschedule(
    session: AsyncSession,
    job_id: int,
    *,
    worker_id: str,
    now: datetime,
    run_at: datetime,
    payload: Mapping[str, Any] | None = None,
) -> bool:
    """Queue again for `run_at` without counting a failure (the step succeeded; the work goes on)."""
    values: dict[str, Any] = {"payload": dict(payload)} if payload is not None else {}
    kept = await _update_mine(
        session,
        job_id,
        worker_id,
        state=JobState.QUEUED.value,
        run_at=run_at,
        attempts=0,
        lease_until=None,
        locked_by=None,
        last_error=None,
        updated_at=now,
        **values,
    )
    if kept and run_at <= now:
        became_due(session)
    return kept


async def fail(
    session: AsyncSession,
    job_id: int,
    *,
    worker_id: str,
    now: datetime,
    error: str,
    retry_after: timedelta | None = None,
    permanent: bool = False,
) -> JobState | None:
    """Record a failed attempt: queued again after a backoff (or `retry_after`), or dead when spent.

    Returns the new state, or None when the lease was lost (another worker owns the job now).
    """
    job = await session.get(Job, job_id, populate_existing=True, with_for_update=True)
    if job is None or job.state != JobState.RUNNING.value or job.locked_by != worker_id:
        return None
    job.last_error = error[:ERROR_LIMIT]
    job.lease_until = None
    job.locked_by = None
    job.updated_at = now
    if permanent or job.attempts >= job.max_attempts:
        job.state = JobState.DEAD.value
    else:
        job.state = JobState.QUEUED.value
        job.run_at = now + (retry_after if retry_after is not None else backoff(job.attempts))
        if job.run_at <= now:
            became_due(session)
    await session.flush()
    return JobState(job.state)


async def release(session: AsyncSession, job_ids: Sequence[int], *, worker_id: str, now: datetime) -> int:
    """Give unfinished jobs back at shutdown: queued, runnable at once, the attempt not counted."""
    if not job_ids:
        return 0
    result = await session.execute(
        update(Job)
        .where(Job.id.in_(job_ids), Job.state == JobState.RUNNING.value, Job.locked_by == worker_id)
        .values(
            state=JobState.QUEUED.value,
            attempts=Job.attempts - 1,
            run_at=now,
            lease_until=None,
            locked_by=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    released = _rowcount(result)
    if released:
        became_due(session)  # another worker takes them at once
    return released


def run_now_statement(job_id: Any, now: Any) -> Update:
    """The UPDATE that makes a queued job due `now` (unless it is due already); `job_id` and `now` may be
    bound parameters or expressions (a scalar subquery naming the job), so a caller can build it once."""
    return (
        update(JOBS)
        .where(JOBS.c.id == job_id, JOBS.c.state == JobState.QUEUED.value, JOBS.c.run_at > now)
        .values(run_at=now, updated_at=now)
    )


async def run_now(session: AsyncSession, job_id: int | Any, *, now: datetime) -> bool:
    """Make a queued job due now (a job it waited for settled; an operator asked); whether it was
    queued for later. `job_id` may be a scalar subquery. Rings on commit."""
    return await run_now_with(session, run_now_statement(job_id, now), {})


async def run_now_with(session: AsyncSession, statement: Update, values: Mapping[str, Any]) -> bool:
    """Execute a `run_now_statement` (with the values of its bound parameters); whether a job was woken.
    Rings on commit when one was."""
    woken = _rowcount(await session.execute(statement, dict(values))) > 0
    if woken:
        became_due(session)
    return woken


async def hold(session: AsyncSession, job_id: int, *, until: datetime) -> None:
    """A queued job waits until `until` (to be woken earlier with `run_now` by what it waits for)."""
    await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.QUEUED.value)
        .values(run_at=until)
        .execution_options(synchronize_session=False)
    )


async def next_due(session: AsyncSession, *, worker_id: str) -> datetime | None:
    """When the next job becomes claimable without anyone ringing: the earliest queued `run_at`, or the
    earliest lease of another worker that may expire (two index look-ups)."""
    queued = select(func.min(Job.run_at)).where(Job.state == JobState.QUEUED.value).scalar_subquery()
    leased = (
        select(func.min(Job.lease_until))
        .where(Job.state == JobState.RUNNING.value, or_(Job.locked_by.is_(None), Job.locked_by != worker_id))
        .scalar_subquery()
    )
    first, lease = (await session.execute(select(queued, leased))).one()
    times = [when for when in (first, lease) if when is not None]
    return min(times) if times else None


async def move_queued(
    session: AsyncSession,
    kind: str,
    authorization_id: uuid.UUID,
    *,
    payload: Mapping[str, Any],
    now: datetime,
    run_at: datetime,
) -> int:
    """Move the queued jobs of `kind` for an authorization; returns how many moved."""
    result = await session.execute(
        update(Job)
        .where(Job.authorization_id == authorization_id, Job.kind == kind, Job.state == JobState.QUEUED.value)
        .values(run_at=run_at, payload=dict(payload), updated_at=now)
    )
    moved = _rowcount(result)
    if moved:
        became_due(session)  # "follow up now", or sooner than the workers' timers know
    return moved


async def settle_queued(session: AsyncSession, kind: str, authorization_id: uuid.UUID, *, now: datetime) -> None:
    """Mark the queued jobs of `kind` for an authorization done (no longer needed)."""
    await session.execute(
        update(Job)
        .where(Job.authorization_id == authorization_id, Job.kind == kind, Job.state == JobState.QUEUED.value)
        .values(state=JobState.DONE.value, updated_at=now)
    )


async def next_queued(session: AsyncSession, kind: str, authorization_id: uuid.UUID) -> Job | None:
    """The next queued job of `kind` for an authorization."""
    statement = (
        select(Job)
        .where(Job.authorization_id == authorization_id, Job.kind == kind, Job.state == JobState.QUEUED.value)
        .order_by(Job.run_at)
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def run_queued_now(session: AsyncSession, job_ids: Sequence[int], *, now: datetime) -> int:
    """Operations' "run now": these jobs, those still queued, become due at once (attempts kept).

    Returns how many moved; a worker of this process is rung when the transaction commits."""
    if not job_ids:
        return 0
    result = await session.execute(
        update(Job)
        .where(Job.id.in_(list(job_ids)), Job.state == JobState.QUEUED.value)
        .values(run_at=now, updated_at=now)
    )
    moved = _rowcount(result)
    if moved:
        became_due(session)
    return moved
