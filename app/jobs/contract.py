"""What a job handler sees and may answer. Handlers are `async def handler(job: JobContext) -> JobOutcome | None`.

- Return None: the job is done. The handler's writes (through `job.session`) and the job's
  completion commit in ONE transaction; if the worker lost the lease meanwhile, both roll back.
- Return `Completed(kept)`: the job is done, and the handler wrote its completion itself, in one of its
  own statements (`app.jobs.repository.COMPLETE` with `job.completion(now)`; `kept`: whether that
  statement matched, i.e. the lease was still this worker's). The worker only commits (or rolls back
  when `kept` is False). For a hot handler whose outcome is one statement (a webhook delivery).
- Return `Reschedule(after=...)`: the step succeeded but the work goes on later ("still pended,
  ask again in an hour"). The handler's writes commit with it; it does not count as a failure
  (attempts start again from zero), and it may replace the payload to carry state forward.
- Raise: the handler's writes roll back and a failed attempt is recorded in a separate
  transaction. The job runs again after an exponential backoff with jitter, or after
  `retry_after` when the exception carries one (`JobError(..., retry_after=...)`, or any exception
  with a `retry_after: timedelta` attribute such as `app.payers.errors.PayerError`), and ends
  `dead` once `max_attempts` are spent. `JobError(..., permanent=True)` goes dead at once.

A handler that queues follow-on jobs may hand them to its own worker (`job.hand_over`, given by the
running worker loop): they are written already claimed by it and start as soon as the handler's
transaction commits, with what the handler knew (`ClaimedJob.preloaded`, seen by their first run as
`job.preloaded`), skipping a wake-up and a claim round (an event's fan-out and its deliveries). A
`Preloading` handler has its claimed jobs' rows read by the claim itself (`job.preloaded` likewise).

The failure recorded (`last_error`) and the logs hold the exception type and, for JobError
only, its message: other exceptions' messages may quote PHI, so handlers should raise JobError
with a message they know to be safe when they want one recorded.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeAlias

from sqlalchemy.ext.asyncio import AsyncSession

from app.jobs.repository import Clock, completion_values
from app.jobs.repository.enqueue_many import Lease
from app.store.models import Job


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    """A job this worker holds, safe to use after the session that wrote it closed: claimed from the queue
    (`of`), or written already claimed by the handler that hands it over (first attempt, `preloaded`)."""

    id: int
    kind: str
    payload: Mapping[str, Any]
    attempt: int  # 1 on the first try
    max_attempts: int
    client_id: str | None
    authorization_id: uuid.UUID | None
    preloaded: Any = None  # a handed-over job's first run: what the handler that wrote it knew (e.g. its rows)

    @classmethod
    def of(cls, job: Job) -> ClaimedJob:
        return cls(
            job.id, job.kind, dict(job.payload), job.attempts, job.max_attempts, job.client_id, job.authorization_id
        )


class HandOver:
    """Follow-on jobs a handler writes claimed by its own worker (`lease`), which starts them as soon as the
    handler's transaction commits: as many as the handler's own slot (`own_slot`, free once it ends)
    and the worker's free slots (`borrow`) allow, so the rest are queued as usual. Nothing is started
    if the transaction rolls back."""

    def __init__(self, lease: Lease, borrow: Callable[[int], int], *, own_slot: bool = True) -> None:
        self.lease = lease
        self._borrow = borrow
        self._own = 1 if own_slot else 0
        self.borrowed = 0  # the worker's free slots held for these jobs until the handler ends
        self.jobs: list[ClaimedJob] = []

    def reserve(self, wanted: int) -> int:
        """How many of `wanted` new jobs may be written claimed."""
        own = max(0, min(wanted, self._own))
        self._own -= own
        borrowed = self._borrow(wanted - own) if wanted > own else 0
        self.borrowed += borrowed
        return own + borrowed

    def take(self, job: ClaimedJob) -> None:
        """A job written claimed (one of those reserved): start it after the commit."""
        self.jobs.append(job)


@dataclass(frozen=True, slots=True)
class JobContext:
    """One claimed job, and the unit of work its handler writes through (the worker commits it)."""

    job_id: int
    kind: str
    payload: Mapping[str, Any]
    attempt: int  # 1 on the first try
    max_attempts: int
    client_id: str | None
    authorization_id: uuid.UUID | None
    session: AsyncSession
    clock: Clock = field(repr=False)
    hand_over: HandOver | None = field(default=None, repr=False)  # None: write follow-on jobs queued
    preloaded: Any = field(default=None, repr=False)  # from the handler that handed this job over
    worker_id: str | None = field(default=None, repr=False)  # None: run outside a worker (no `completion`)

    def now(self) -> datetime:
        return self.clock()

    def completion(self, now: datetime) -> dict[str, Any] | None:
        """The bound values of `app.jobs.repository.COMPLETE` for this job done at `now` (answer `Completed`
        after executing it); None when no worker runs the job (the caller completes it then)."""
        return None if self.worker_id is None else completion_values(self.job_id, self.worker_id, now)


@dataclass(frozen=True, slots=True)
class Reschedule:
    """Run this job again after `after`, not as a failure; `payload` replaces the job's payload if given."""

    after: timedelta
    payload: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.after < timedelta(0):
            raise ValueError("Reschedule.after must not be negative")


@dataclass(frozen=True, slots=True)
class Completed:
    """Done, the completion written by the handler itself (`JobContext.completion`) in its own statement;
    `kept`: whether it matched (False: the lease was lost, and the worker rolls the handler's writes back)."""

    kept: bool


JobOutcome: TypeAlias = Reschedule | Completed
"""What a handler may return besides None (done, the worker writes the completion)."""

Handler: TypeAlias = Callable[[JobContext], Awaitable[JobOutcome | None]]

Preload: TypeAlias = Callable[[AsyncSession, Sequence[ClaimedJob]], Awaitable[Mapping[int, Any]]]
"""Reads what some claimed jobs of one kind will need, in the claim's transaction: `preloaded` by job id."""


@dataclass(frozen=True, slots=True)
class Preloading:
    """A handler whose jobs' rows the worker reads with the claim that leases them (`preload`, one statement
    for the batch, in the claim's transaction), so a job's first look-up and the transaction it would open
    are saved; each job sees its share as `job.preloaded` (absent: the handler looks it up itself)."""

    handler: Handler
    preload: Preload

    async def __call__(self, job: JobContext) -> JobOutcome | None:
        return await self.handler(job)


class JobError(Exception):
    """A failure a handler raises on purpose: its message is recorded (keep it free of PHI)."""

    def __init__(self, message: str, *, retry_after: timedelta | None = None, permanent: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.permanent = permanent


class UnknownJobKind(JobError):
    """No handler is registered for the job's kind (the job fails, and ends dead when spent)."""


def describe_failure(exc: BaseException) -> str:
    """The `last_error` text: type and, for JobError, its (PHI-free) message; for an error that
    offers a `safe_message` (a sanitised, capped text such as `PayerError`'s), that text."""
    if isinstance(exc, JobError):
        return f"{type(exc).__name__}: {exc.message}"
    safe = getattr(exc, "safe_message", None)
    if isinstance(safe, str) and safe:
        return f"{type(exc).__name__}: {safe}"
    return type(exc).__name__


def retry_after_of(exc: BaseException) -> timedelta | None:
    value = getattr(exc, "retry_after", None)
    return value if isinstance(value, timedelta) and value >= timedelta(0) else None


def is_permanent(exc: BaseException) -> bool:
    return isinstance(exc, JobError) and exc.permanent
