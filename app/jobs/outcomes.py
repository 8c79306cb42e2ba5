"""What the end of a job's run writes: its completion or reschedule in the handler's own transaction, or its
failure in a transaction of its own (the handler's writes rolled back). The worker loop (`app.jobs.loop`)
decides when; these say what, and what it means for the logs. Nothing here commits but `record_failure`,
whose transaction is its own.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.jobs import repository as queue
from app.jobs.contract import Completed, JobOutcome, Reschedule, describe_failure, is_permanent, retry_after_of

log = logging.getLogger("app.worker")


async def write_outcome(
    session: AsyncSession, job_id: int, outcome: JobOutcome | None, *, worker_id: str, now: datetime
) -> bool:
    """The job's end as the handler answered it, in the handler's session: done (None), done already
    (`Completed`: the handler's own statement wrote it) or queued again (`Reschedule`); False when the
    lease was lost (the caller rolls back)."""
    if outcome is None:
        return await queue.complete(session, job_id, worker_id=worker_id, now=now)
    if isinstance(outcome, Completed):
        return outcome.kept
    return await queue.reschedule(
        session, job_id, worker_id=worker_id, now=now, run_at=now + outcome.after, payload=outcome.payload
    )


def requeued(outcome: JobOutcome | None) -> bool:
    """Whether the outcome queued the job again (its worker's timer may have to move)."""
    return isinstance(outcome, Reschedule)


async def record_failure(
    sessions: async_sessionmaker[AsyncSession],
    job_id: int,
    exc: Exception,
    *,
    worker_id: str,
    now: datetime,
    extra: Mapping[str, Any],
) -> str:
    """Record a failed run (queued again after a backoff, or dead) and log it; the observer's outcome:
    retry, dead, lease-lost, or not-recorded (the lease will expire)."""
    error = describe_failure(exc)
    logged = {**extra, "error_type": type(exc).__name__, "error": error}
    try:
        async with sessions() as session, session.begin():
            state = await queue.fail(
                session,
                job_id,
                worker_id=worker_id,
                now=now,
                error=error,
                retry_after=retry_after_of(exc),
                permanent=is_permanent(exc),
            )
    except Exception as record_exc:
        log.error(
            "job failure not recorded; the lease will expire",
            extra={**logged, "record_error_type": type(record_exc).__name__},
        )
        return "not-recorded"
    if state is queue.JobState.DEAD:
        log.error("job dead", extra={**logged, "state": state.value})
        return "dead"
    log.warning("job failed", extra={**logged, "state": state.value if state else "lease-lost"})
    return "lease-lost" if state is None else "retry"
