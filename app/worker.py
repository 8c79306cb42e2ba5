"""The background job runner: which handlers run, and how a worker process or task is started.

- `epa worker` (`run_worker_process`): one process, stopped gracefully by SIGTERM/SIGINT; run any
  number of them on PostgreSQL.
- `running_worker(worker)`: one worker as a background task of another process, e.g. inside
  `epa serve` on SQLite, stopped gracefully when the `async with` block ends.
- `default_handlers(runtime)`: the job kinds this service knows: each room's face exports its
  handlers (`handlers(deps)`), merged here one line per room.

The loop itself is `app.jobs.loop.Worker`; the handler contract is `app.jobs.contract`.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app import authorizations, notifications, requirements
from app.jobs.contract import Handler, JobContext, JobError, JobOutcome, Reschedule
from app.jobs.heartbeat import beating, interval_for
from app.jobs.loop import JobObserver, Worker
from app.jobs.repository import Clock, utc_now
from app.jobs.wakeups import Doorbell, doorbell_of, listening
from app.maintenance.partitions import PARTITIONS, ensure_partitions_job, partitions_handler
from app.maintenance.retention import PRUNE, ensure_prune_job, prune_handler
from app.runtime import Runtime, build_runtime, startup_heap_frozen
from app.settings import Settings

__all__ = [
    "Handler",
    "JobContext",
    "JobError",
    "JobOutcome",
    "Reschedule",
    "Worker",
    "default_handlers",
    "run_worker_process",
    "running_worker",
    "worker_from_settings",
]

log = logging.getLogger("app.worker")

NOOP = "noop"
TEST_SLEEP = "test.sleep"
MAX_TEST_SLEEP_SECONDS = 60.0


async def noop(job: JobContext) -> None:
    """Does nothing: a smoke test of the queue (enqueue one, see it done)."""


async def test_sleep(job: JobContext) -> None:
    """Sleeps `payload["seconds"]` (at most a minute): lets tests and operators hold a lease."""
    seconds = job.payload.get("seconds", 1)
    if not isinstance(seconds, int | float) or seconds < 0:
        raise JobError("payload.seconds must be a non-negative number", permanent=True)
    await asyncio.sleep(min(float(seconds), MAX_TEST_SLEEP_SECONDS))


def default_handlers(runtime: Runtime) -> dict[str, Handler]:
    """Every job kind the service handles, keyed by kind: one line per room (a room's face exports
    `handlers(deps)`; the runtime satisfies every room's deps Protocol)."""
    return {
        NOOP: noop,
        TEST_SLEEP: test_sleep,
        PRUNE: prune_handler(runtime.settings),
        PARTITIONS: partitions_handler(),
        **authorizations.handlers(runtime),
        **notifications.handlers(runtime),
        **requirements.risk.handlers(runtime),
    }


def worker_from_settings(
    sessions: async_sessionmaker[AsyncSession],
    handlers: Mapping[str, Handler],
    settings: Settings,
    *,
    clock: Clock = utc_now,
    worker_id: str | None = None,
    observer: JobObserver | None = None,
    wakeups: Doorbell | None = None,
) -> Worker:
    return Worker(
        sessions,
        handlers,
        worker_id=worker_id,
        clock=clock,
        batch_size=settings.worker_batch_size,
        concurrency=settings.worker_concurrency,
        lease=timedelta(seconds=settings.worker_lease_seconds),
        poll_interval=settings.worker_poll_seconds,
        idle_backoff=settings.worker_idle_max_seconds,
        grace_period=settings.worker_grace_seconds,
        observer=observer,
        wakeups=wakeups,
    )


async def schedule_housekeeping(worker: Worker) -> None:
    """Make sure the retention and denial-risk training jobs are queued (every worker checks at start)."""
    if PRUNE not in worker.handlers and requirements.risk.TRAIN not in worker.handlers:
        return
    try:
        async with worker.sessions() as session, session.begin():
            if PRUNE in worker.handlers:
                await ensure_prune_job(session, now=worker.clock())
            if PARTITIONS in worker.handlers:
                await ensure_partitions_job(session, now=worker.clock())
            if requirements.risk.TRAIN in worker.handlers:
                await requirements.risk.ensure_training_job(session, now=worker.clock())
    except Exception as exc:  # the database may be briefly away; the next start tries again
        log.warning("could not schedule the housekeeping jobs", extra={"error_type": type(exc).__name__})


@asynccontextmanager
async def running_worker(worker: Worker, engine: AsyncEngine | None = None) -> AsyncIterator[Worker]:
    """Run `worker` as a background task for the duration of the block, then stop it gracefully.

    With `engine` (PostgreSQL), the worker is also woken by other processes' new jobs (LISTEN)."""
    await schedule_housekeeping(worker)
    stop = asyncio.Event()
    async with _listening(worker, engine), _beating(worker):
        task = asyncio.create_task(worker.run(stop), name=f"worker {worker.worker_id}")
        try:
            yield worker
        finally:
            stop.set()
            try:
                await task
            except Exception as exc:
                log.error("in-process worker ended with an error", extra={"error_type": type(exc).__name__})


def _beating(worker: Worker) -> AbstractAsyncContextManager[None]:
    """The worker's heartbeat while it runs, idle or not (app.jobs.heartbeat)."""
    every = interval_for(worker.lease.total_seconds())
    return beating(worker.sessions, worker.worker_id, worker.clock, every=every)


def _listening(worker: Worker, engine: AsyncEngine | None) -> AbstractAsyncContextManager[None]:
    if engine is None or worker.wakeups is None:
        return nullcontext()
    return listening(engine, worker.wakeups)


async def run_worker_process(settings: Settings) -> None:
    """`epa worker`: work until SIGTERM or SIGINT, then finish or release the jobs in hand."""
    async with build_runtime(settings) as runtime:
        worker = worker_from_settings(
            runtime.sessions, default_handlers(runtime), settings, wakeups=doorbell_of(runtime.engine)
        )
        log.info(
            "worker settings",
            extra={
                "worker_id": worker.worker_id,
                "batch_size": worker.batch_size,
                "concurrency": worker.concurrency,
                "lease_seconds": worker.lease.total_seconds(),
                "poll_seconds": worker.poll_interval,
                "idle_max_seconds": worker.idle_backoff,
                "grace_seconds": worker.grace_period,
                "job_kinds": sorted(worker.handlers),
            },
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await schedule_housekeeping(worker)
        try:
            with startup_heap_frozen():
                async with _listening(worker, runtime.engine), _beating(worker):
                    await worker.run(stop)
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
