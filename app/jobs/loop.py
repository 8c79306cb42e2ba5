"""The Worker: claims due jobs, runs their handlers, records the outcome, keeps its leases alive.

One claim is one short transaction (`app.jobs.repository.claim`); for a `Preloading` handler's jobs it
also reads their rows (`JobContext.preloaded`), one statement per kind. Each job then runs in its own
session, which the handler writes through; completion (or rescheduling) is written in that same
session and committed once, so a handler's writes and its job's completion are atomic (`app.jobs.outcomes`;
a hot handler may write the completion in its own statement and answer `Completed`). A failure
rolls the handler's session back and is recorded in a separate transaction. A heartbeat task
extends the leases of the jobs in hand every third of the lease. On stop, the worker claims
nothing more, waits up to `grace_period` for the jobs in hand, then cancels the rest and
releases them (queued, lease cleared) so another worker takes them at once.

When to claim: at once after a full batch; when a slot frees (all were busy, whether or not the
wake-up rang meanwhile); when the wake-up rings (a job became due now, `app.jobs.wakeups`); when one
of its own jobs was queued again for later (a retry, a reschedule: the timer below may have to move
closer); when the next queued job becomes due or another worker's lease expires (`next_due`, read
with every short claim); else at the poll interval, backing off to `idle_backoff` (a fallback: a
database that was briefly away, a clock jump). With a doorbell (every worker the service builds), a
job that simply ends while slots are free causes no claim: whatever it made due rang the wake-up
(`app.jobs.repository.became_due`); without one, its end is the only prompt, and the worker claims.

Hand-over (the running loop only, not `run_once`): a handler may write its follow-on jobs leased to
this worker, up to its own slot and the free ones (`JobContext.hand_over`); they start here once the
handler's transaction commits and its session is closed, with no wake-up and no claim.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.jobs import repository as queue
from app.jobs.contract import ClaimedJob, Handler, HandOver, JobContext, Preloading, UnknownJobKind
from app.jobs.outcomes import record_failure, requeued, write_outcome
from app.jobs.repository import Clock, utc_now
from app.jobs.repository.enqueue_many import Lease
from app.jobs.repository.leases import extend_leases
from app.jobs.wakeups import Doorbell

log = logging.getLogger("app.worker")

JobObserver = Callable[[str, str], None]
"""Told (kind, outcome) when a run ends: done, rescheduled, retry, dead or lease-lost (e.g. metrics)."""

MIN_SLEEP = 0.01  # seconds: a job due "now" that another worker is claiming is looked at again this soon


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"[-128:]


class Worker:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        handlers: Mapping[str, Handler],
        *,
        worker_id: str | None = None,
        clock: Clock = utc_now,
        batch_size: int = 10,
        concurrency: int = 10,
        lease: timedelta = timedelta(seconds=60),
        poll_interval: float = 1.0,
        idle_backoff: float = 10.0,
        grace_period: float = 25.0,
        observer: JobObserver | None = None,
        wakeups: Doorbell | None = None,
    ) -> None:
        if batch_size < 1 or concurrency < 1 or lease <= timedelta(0) or poll_interval <= 0:
            raise ValueError("batch_size, concurrency, lease and poll_interval must be positive")
        self.sessions = sessions
        self.handlers = dict(handlers)
        self.worker_id = worker_id or default_worker_id()
        self.clock = clock
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.lease = lease
        self.poll_interval = poll_interval
        self.idle_backoff = max(idle_backoff, poll_interval)
        self.grace_period = grace_period
        self.observer = observer
        self.wakeups = wakeups  # rung when a due job is queued: claim at once instead of at the next poll
        self._in_hand: dict[int, asyncio.Task[None]] = {}
        self._settling: set[int] = set()  # jobs whose outcome is being written: their leases end on purpose
        self._draining = False
        self._reserved = 0  # slots promised to jobs handlers are writing claimed (hand-over), not yet started
        self._buried_at: datetime | None = None
        self._bury_every = timedelta(seconds=poll_interval)
        self._requeued = Doorbell()  # rung when one of its jobs was queued again for later: look at next_due

    @property
    def in_hand(self) -> frozenset[int]:
        """The ids of the jobs this worker holds right now."""
        return frozenset(self._in_hand)

    async def run_once(self) -> int:
        """Claim one batch, run it to the end (`concurrency` at a time), return how many were claimed."""
        async with self._heartbeating():
            jobs, _next_at = await self._claim(self.batch_size)
            gate = asyncio.Semaphore(self.concurrency)

            async def gated(job: ClaimedJob) -> None:
                async with gate:
                    await self._run(job, hand_over=False)

            await asyncio.gather(*(self._start(job, gated(job)) for job in jobs))
        return len(jobs)

    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop` is set, then drain: finish (within the grace period) or release."""
        log.info("worker started", extra={"worker_id": self.worker_id})
        stopping = asyncio.create_task(stop.wait())
        delay = self.poll_interval
        try:
            async with self._heartbeating():
                try:
                    while not stop.is_set():
                        free = self.concurrency - len(self._in_hand) - self._reserved
                        if free <= 0:  # every slot busy: claim again as soon as one frees up
                            await self._wait(stopping, seconds=None)
                            continue
                        limit = min(free, self.batch_size)
                        rings = self.wakeups.rings if self.wakeups is not None else 0
                        requeues = self._requeued.rings
                        claimed, next_at = await self._claim_quietly(limit)
                        for job in claimed:
                            self._start(job, self._run(job))
                        if len(claimed) == limit:
                            delay = self.poll_interval
                            continue  # a full batch: more may be due
                        sleep = self._until(next_at, self.poll_interval if claimed else delay)
                        # With a doorbell, a job that ends needs no claim: what it made due rang. Without one
                        # (tests, tools), a job's end is the only prompt there is.
                        ends = None if self.wakeups is not None else requeues
                        woken = await self._wait(stopping, seconds=sleep, rings=rings, requeues=requeues, ends=ends)
                        # Idle: poll less and less often, up to idle_backoff; any work or wake-up resets it.
                        delay = self.poll_interval if claimed or woken else min(delay * 2, self.idle_backoff)
                finally:
                    await self._drain()
        finally:
            stopping.cancel()
            log.info("worker stopped", extra={"worker_id": self.worker_id})

    def _until(self, next_at: datetime | None, poll: float) -> float:
        """Seconds to sleep: the poll interval, or less when a job becomes due (or a lease expires) sooner."""
        if next_at is None:
            return poll
        return min(poll, max((next_at - self.clock()).total_seconds(), MIN_SLEEP))

    async def _wait(
        self,
        stopping: asyncio.Task[Any],
        *,
        seconds: float | None,
        rings: int | None = None,
        requeues: int | None = None,
        ends: int | None = None,
    ) -> bool:
        """Until stop or `seconds` pass; given `rings`, a wake-up after it; given `requeues` (slots free), one
        of its jobs queued again for later after it; without `requeues` (every slot busy), or given `ends`,
        a job in hand ending. True if woken by a ring or a job queued again."""
        waiting: set[asyncio.Future[Any]] = {stopping}
        requeued = None
        if requeues is not None:
            requeued = asyncio.ensure_future(self._requeued.wait(requeues))
            waiting.add(requeued)
        if requeues is None or ends is not None:
            waiting.update(self._in_hand.values())
        bell = None
        if self.wakeups is not None and rings is not None:
            bell = asyncio.ensure_future(self.wakeups.wait(rings))
            waiting.add(bell)
        try:
            await asyncio.wait(waiting, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for future in (bell, requeued):
                if future is not None and not future.done():
                    future.cancel()
        return any(future is not None and future.done() and not future.cancelled() for future in (bell, requeued))

    def _start(self, job: ClaimedJob, work: Any) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self._in_hand[job.id] = task
        task.add_done_callback(lambda _t: self._let_go(job.id))
        return task

    def _let_go(self, job_id: int) -> None:
        self._in_hand.pop(job_id, None)
        self._settling.discard(job_id)

    async def _claim(self, limit: int) -> tuple[list[ClaimedJob], datetime | None]:
        """Up to `limit` due jobs, and (when fewer were due) when the next one becomes claimable."""
        async with self.sessions() as session, session.begin():
            now = self.clock()
            if self._buried_at is None or now - self._buried_at >= self._bury_every:
                self._buried_at = now  # abandoned leases are rare: looked for once a poll interval, not every claim
                buried = await queue.bury_abandoned(session, now=now)
                if buried:
                    log.warning("jobs dead after their worker stopped", extra={"count": buried})
            rows = await queue.claim(session, worker_id=self.worker_id, now=now, lease=self.lease, limit=limit)
            claimed = await self._preloaded(session, [ClaimedJob.of(row) for row in rows])
            if len(claimed) == limit:
                return claimed, None
            return claimed, await queue.next_due(session, worker_id=self.worker_id)

    async def _preloaded(self, session: AsyncSession, claimed: list[ClaimedJob]) -> list[ClaimedJob]:
        """The claimed jobs, those of `Preloading` handlers with their rows read in the claim's transaction."""
        kinds = {job.kind for job in claimed}
        for kind in kinds:
            handler = self.handlers.get(kind)
            if not isinstance(handler, Preloading):
                continue
            loaded = await handler.preload(session, [job for job in claimed if job.kind == kind])
            if loaded:
                claimed = [
                    replace(job, preloaded=loaded[job.id]) if job.kind == kind and job.id in loaded else job
                    for job in claimed
                ]
        return claimed

    async def _claim_quietly(self, limit: int) -> tuple[list[ClaimedJob], datetime | None]:
        try:
            return await self._claim(limit)
        except Exception as exc:  # the database may be briefly away: try again at the next poll
            log.warning("claim failed", extra={"worker_id": self.worker_id, "error_type": type(exc).__name__})
            return [], None

    def _context(self, job: ClaimedJob, session: AsyncSession, hand_over: HandOver | None) -> JobContext:
        return JobContext(
            job_id=job.id,
            kind=job.kind,
            payload=job.payload,
            attempt=job.attempt,
            max_attempts=job.max_attempts,
            client_id=job.client_id,
            authorization_id=job.authorization_id,
            session=session,
            clock=self.clock,
            hand_over=hand_over,
            preloaded=job.preloaded,
            worker_id=self.worker_id,
        )

    def _reserve(self, wanted: int) -> int:
        if self._draining:
            return 0
        granted = max(0, min(wanted, self.concurrency - len(self._in_hand) - self._reserved))
        self._reserved += granted
        return granted

    async def _run(self, job: ClaimedJob, *, hand_over: bool = True) -> None:
        handing = None
        if hand_over:
            lease = Lease(self.worker_id, self.clock() + self.lease)
            handing = HandOver(lease, self._reserve, own_slot=not self._draining)
        committed = False
        try:
            committed = await self._run_handler(job, handing)
        finally:
            if handing is not None:
                self._reserved -= handing.borrowed
                if committed:  # the handler's session is closed: its rows are the handed jobs' to use
                    for handed in handing.jobs:
                        self._start(handed, self._run(handed))

    async def _run_handler(self, job: ClaimedJob, handing: HandOver | None) -> bool:
        """Run the handler and write its outcome (or its failure); whether its transaction committed."""
        try:
            async with self.sessions() as session:
                handler = self.handlers.get(job.kind)
                if handler is None:
                    raise UnknownJobKind(f"no handler for job kind {job.kind!r}")
                outcome = await handler(self._context(job, session, handing))
                self._settling.add(job.id)
                kept = await write_outcome(session, job.id, outcome, worker_id=self.worker_id, now=self.clock())
                if not kept:
                    await session.rollback()
                    log.warning("job lease lost; its writes were rolled back", extra=self._log_extra(job))
                    self._observe(job, "lease-lost")
                    return False
                await session.commit()
                if requeued(outcome):
                    self._requeued.ring()
        except Exception as exc:
            await self._record_failure(job, exc)
            return False
        ended = "rescheduled" if requeued(outcome) else "done"
        log.debug("job finished", extra={**self._log_extra(job), "outcome": ended})
        self._observe(job, ended)
        return True

    def _observe(self, job: ClaimedJob, outcome: str) -> None:
        if self.observer is not None:
            self.observer(job.kind, outcome)

    async def _record_failure(self, job: ClaimedJob, exc: Exception) -> None:
        self._settling.add(job.id)
        extra = self._log_extra(job)
        ended = await record_failure(
            self.sessions, job.id, exc, worker_id=self.worker_id, now=self.clock(), extra=extra
        )
        if ended == "not-recorded":
            return
        if ended != "dead":
            self._requeued.ring()
        self._observe(job, ended)

    def _log_extra(self, job: ClaimedJob) -> dict[str, Any]:
        return {"job_id": job.id, "kind": job.kind, "attempt": job.attempt, "worker_id": self.worker_id}

    async def _drain(self) -> None:
        self._draining = True  # no more hand-overs; those already written start, and are waited for here
        deadline = asyncio.get_running_loop().time() + self.grace_period
        pending: set[asyncio.Task[None]] = set()
        while self._in_hand and not pending:
            tasks = dict(self._in_hand)
            timeout = max(deadline - asyncio.get_running_loop().time(), 0.0)
            _done, pending = await asyncio.wait(tasks.values(), timeout=timeout)
        if not pending:
            return
        unfinished = [job_id for job_id, task in tasks.items() if task in pending]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if unfinished:
            await asyncio.shield(self._release(unfinished))

    async def _release(self, job_ids: list[int]) -> None:
        try:
            async with self.sessions() as session, session.begin():
                released = await queue.release(session, job_ids, worker_id=self.worker_id, now=self.clock())
            log.info("jobs released at shutdown", extra={"worker_id": self.worker_id, "count": released})
        except Exception as exc:
            log.error(
                "release failed; the leases will expire",
                extra={"worker_id": self.worker_id, "error_type": type(exc).__name__},
            )

    @asynccontextmanager
    async def _heartbeating(self) -> AsyncIterator[None]:
        task = asyncio.create_task(self._heartbeat_loop())
        try:
            yield
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    async def _heartbeat_loop(self) -> None:
        interval = self.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(interval)
            await self.heartbeat()

    async def heartbeat(self) -> None:
        """Extend the leases of the jobs in hand (the heartbeat task calls this every lease/3)."""
        job_ids = [job_id for job_id in self._in_hand if job_id not in self._settling]
        if not job_ids:
            return
        try:
            async with self.sessions() as session, session.begin():
                held = await extend_leases(
                    session, job_ids, worker_id=self.worker_id, now=self.clock(), lease=self.lease
                )
        except Exception as exc:
            log.warning("heartbeat failed", extra={"worker_id": self.worker_id, "error_type": type(exc).__name__})
            return
        # A job that ended, or whose outcome was being written, while the heartbeat ran is no longer
        # running: not a lost lease (a lease really lost is also told by the job's own end).
        lost = [j for j in job_ids if j not in held and j in self._in_hand and j not in self._settling]
        if lost:
            log.warning("leases lost", extra={"worker_id": self.worker_id, "count": len(lost)})
