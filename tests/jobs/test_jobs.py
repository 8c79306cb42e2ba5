"""The job queue in SQL: outbox atomicity, claims and leases, backoff, dead letters, ops queries."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.errors import Conflict, NotFound
from app.jobs import repository as queue
from app.jobs.queries import JobFilter, get_job, list_jobs, retry_job
from app.jobs.repository import JobState, backoff, enqueue
from app.jobs.repository.enqueue_many import Lease, NewJob, enqueue_many
from app.jobs.repository.leases import extend_leases
from app.store.database import create_session_factory
from app.store.models import Job
from tests.support.clock import FakeClock
from tests.support.jobs import count_jobs, load_job

LEASE = timedelta(seconds=30)


async def _enqueue(engine: AsyncEngine, clock: FakeClock, kind: str = "noop", **options: object) -> int:
    async with create_session_factory(engine)() as session:
        job = enqueue(session, kind, {"n": 1}, now=clock(), **options)  # type: ignore[arg-type]
        await session.commit()
        return job.id


async def _claim(engine: AsyncEngine, clock: FakeClock, worker: str = "w1", limit: int = 10) -> list[Job]:
    async with create_session_factory(engine)() as session, session.begin():
        return await queue.claim(session, worker_id=worker, now=clock(), lease=LEASE, limit=limit)


async def test_enqueue_in_a_rolled_back_transaction_leaves_no_job(engine: AsyncEngine, session: AsyncSession) -> None:
    enqueue(session, "noop", {"a": 1})
    await session.flush()
    await session.rollback()
    assert await count_jobs(engine) == 0

    enqueue(session, "noop", {"a": 1})
    await session.commit()
    assert await count_jobs(engine, state="queued") == 1


async def test_claim_leases_due_jobs_once_and_complete_marks_done(engine: AsyncEngine) -> None:
    clock = FakeClock()
    first = await _enqueue(engine, clock)
    second = await _enqueue(engine, clock)
    later = await _enqueue(engine, clock, run_at=clock() + timedelta(minutes=5))

    claimed = await _claim(engine, clock)
    assert [job.id for job in claimed] == [first, second]
    assert all(job.state == "running" and job.attempts == 1 for job in claimed)
    assert all(job.locked_by == "w1" and job.lease_until == clock() + LEASE for job in claimed)
    assert await _claim(engine, clock, worker="w2") == []

    async with create_session_factory(engine)() as session, session.begin():
        assert await queue.complete(session, first, worker_id="w1", now=clock())
        assert not await queue.complete(session, second, worker_id="w2", now=clock())
        assert await queue.complete(session, second, worker_id="w1", now=clock())
    done = await load_job(engine, first)
    assert (done.state, done.lease_until, done.locked_by) == ("done", None, None)

    clock.advance(timedelta(minutes=5))
    assert [job.id for job in await _claim(engine, clock, worker="w2")] == [later]


async def test_claim_takes_at_most_the_limit(engine: AsyncEngine) -> None:
    clock = FakeClock()
    for _ in range(5):
        await _enqueue(engine, clock)
    assert len(await _claim(engine, clock, limit=3)) == 3
    assert len(await _claim(engine, clock, limit=3)) == 2


async def test_an_expired_lease_is_claimed_again_and_the_old_worker_can_no_longer_finish(engine: AsyncEngine) -> None:
    clock = FakeClock()
    job_id = await _enqueue(engine, clock)
    await _claim(engine, clock, worker="dead-worker")
    clock.advance(LEASE)
    assert await _claim(engine, clock, worker="w2") == []  # lease_until == now: still held

    clock.advance(timedelta(seconds=1))
    [again] = await _claim(engine, clock, worker="w2")
    assert (again.id, again.attempts, again.locked_by) == (job_id, 2, "w2")
    async with create_session_factory(engine)() as session, session.begin():
        assert not await queue.complete(session, job_id, worker_id="dead-worker", now=clock())
        assert await queue.complete(session, job_id, worker_id="w2", now=clock())


async def test_heartbeat_extends_only_the_leases_still_held(engine: AsyncEngine) -> None:
    clock = FakeClock()
    job_id = await _enqueue(engine, clock)
    await _claim(engine, clock)
    clock.advance(timedelta(seconds=20))
    async with create_session_factory(engine)() as session, session.begin():
        assert len(await extend_leases(session, [job_id], worker_id="w1", now=clock(), lease=LEASE)) == 1
        assert len(await extend_leases(session, [job_id], worker_id="w2", now=clock(), lease=LEASE)) == 0
    assert (await load_job(engine, job_id)).lease_until == clock() + LEASE


async def _fail(engine: AsyncEngine, clock: FakeClock, job_id: int, **options: object) -> JobState | None:
    async with create_session_factory(engine)() as session, session.begin():
        return await queue.fail(session, job_id, worker_id="w1", now=clock(), error="Boom", **options)  # type: ignore[arg-type]


async def test_failures_back_off_honour_retry_after_and_end_dead(engine: AsyncEngine) -> None:
    clock = FakeClock()
    job_id = await _enqueue(engine, clock, max_attempts=3)

    await _claim(engine, clock)
    assert await _fail(engine, clock, job_id) is JobState.QUEUED
    job = await load_job(engine, job_id)
    assert (job.attempts, job.last_error, job.locked_by) == (1, "Boom", None)
    assert clock() + queue.BACKOFF_BASE / 2 <= job.run_at <= clock() + queue.BACKOFF_BASE
    assert await _claim(engine, clock) == []  # not before the backoff

    clock.at = job.run_at
    await _claim(engine, clock)
    assert await _fail(engine, clock, job_id, retry_after=timedelta(minutes=2)) is JobState.QUEUED
    assert (await load_job(engine, job_id)).run_at == clock() + timedelta(minutes=2)

    clock.advance(timedelta(minutes=2))
    await _claim(engine, clock)
    assert await _fail(engine, clock, job_id) is JobState.DEAD
    dead = await load_job(engine, job_id)
    assert (dead.state, dead.attempts, dead.lease_until) == ("dead", 3, None)
    clock.advance(timedelta(days=1))
    assert await _claim(engine, clock) == []


async def test_a_permanent_failure_is_dead_at_once_and_a_lost_lease_records_nothing(engine: AsyncEngine) -> None:
    clock = FakeClock()
    job_id = await _enqueue(engine, clock)
    await _claim(engine, clock)
    async with create_session_factory(engine)() as session, session.begin():
        assert await queue.fail(session, job_id, worker_id="w2", now=clock(), error="x") is None
    assert await _fail(engine, clock, job_id, permanent=True) is JobState.DEAD


@pytest.mark.parametrize(
    ("attempts", "low", "high"),
    [(1, 2.5, 5), (2, 5, 10), (3, 10, 20), (12, 1800, 3600), (500, 1800, 3600)],
)
def test_backoff_is_exponential_with_jitter_and_capped(attempts: int, low: float, high: float) -> None:
    assert backoff(attempts, rng=lambda: 0.0) == timedelta(seconds=low)
    assert backoff(attempts, rng=lambda: 1.0) == timedelta(seconds=high)


async def test_an_expired_lease_on_the_last_attempt_is_buried(engine: AsyncEngine) -> None:
    clock = FakeClock()
    job_id = await _enqueue(engine, clock, max_attempts=1)
    await _claim(engine, clock)
    clock.advance(LEASE * 2)
    assert await _claim(engine, clock, worker="w2") == []
    async with create_session_factory(engine)() as session, session.begin():
        assert await queue.bury_abandoned(session, now=clock()) == 1
    job = await load_job(engine, job_id)
    assert job.state == "dead"
    assert job.last_error is not None
    assert "lease expired" in job.last_error


async def test_reschedule_and_release_do_not_count_as_failures(engine: AsyncEngine) -> None:
    clock = FakeClock()
    job_id = await _enqueue(engine, clock)
    await _claim(engine, clock)
    async with create_session_factory(engine)() as session, session.begin():
        later = clock() + timedelta(hours=1)
        assert await queue.reschedule(session, job_id, worker_id="w1", now=clock(), run_at=later, payload={"n": 2})
    job = await load_job(engine, job_id)
    assert (job.state, job.attempts, job.payload, job.run_at) == ("queued", 0, {"n": 2}, later)

    clock.at = later
    await _claim(engine, clock)
    async with create_session_factory(engine)() as session, session.begin():
        assert await queue.release(session, [job_id], worker_id="w1", now=clock()) == 1
    job = await load_job(engine, job_id)
    assert (job.state, job.attempts, job.locked_by, job.run_at) == ("queued", 0, None, clock())


async def test_ops_list_filters_pages_newest_first_and_scopes_to_the_client(engine: AsyncEngine) -> None:
    clock = FakeClock()
    authorization = uuid.uuid4()
    mine = [await _enqueue(engine, clock, client_id="c1", authorization_id=authorization) for _ in range(5)]
    other = await _enqueue(engine, clock, kind="other", client_id="c2")

    async with create_session_factory(engine)() as session:
        first = await list_jobs(session, client_id="c1", limit=2)
        assert [job.id for job in first.jobs] == mine[:-3:-1]
        assert first.next_cursor is not None
        rest = await list_jobs(session, client_id="c1", limit=10, cursor=first.next_cursor)
        assert [job.id for job in rest.jobs] == mine[2::-1]
        assert rest.next_cursor is None

        everyone = await list_jobs(session, client_id=None)
        assert [job.id for job in everyone.jobs] == [other, *mine[::-1]]
        by_kind = await list_jobs(session, client_id=None, where=JobFilter(kind="other"))
        assert [job.id for job in by_kind.jobs] == [other]
        by_auth = await list_jobs(session, client_id=None, where=JobFilter(authorization_id=authorization))
        assert len(by_auth.jobs) == 5
        assert (await list_jobs(session, client_id="c1", where=JobFilter(state=JobState.DEAD))).jobs == []

        assert (await get_job(session, other, client_id=None)).kind == "other"
        with pytest.raises(NotFound):
            await get_job(session, other, client_id="c1")


async def test_ops_retry_requeues_only_dead_jobs(engine: AsyncEngine) -> None:
    clock = FakeClock()
    job_id = await _enqueue(engine, clock, client_id="c1", max_attempts=1)
    async with create_session_factory(engine)() as session:
        with pytest.raises(Conflict):
            await retry_job(session, job_id, client_id="c1", now=clock())
    await _claim(engine, clock)
    assert await _fail(engine, clock, job_id) is JobState.DEAD

    clock.advance(timedelta(hours=1))
    async with create_session_factory(engine)() as session:
        with pytest.raises(NotFound):
            await retry_job(session, job_id, client_id="c2", now=clock())
        job = await retry_job(session, job_id, client_id="c1", now=clock())
        await session.commit()
    assert (job.state, job.attempts, job.run_at) == ("queued", 0, clock())
    assert [claimed.id for claimed in await _claim(engine, clock)] == [job_id]


async def test_jobs_queued_and_claimed_together_are_one_insert(engine: AsyncEngine) -> None:
    clock = FakeClock()
    lease = Lease(worker_id="w1", until=clock() + LEASE)
    jobs = [NewJob({"n": 0}, run_at=clock(), claimed=True), NewJob({"n": 1}, run_at=clock(), client_id="c")]
    inserts: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        inserts.extend([statement] if statement.startswith("INSERT") else [])

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            written = await enqueue_many(session, "noop", jobs, now=clock(), lease=lease)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
    assert len(inserts) == 1  # NULLs written as such: the rows name the same columns
    rows = {payload["n"]: await load_job(engine, job_id) for job_id, payload in written}
    assert (rows[0].state, rows[0].locked_by, rows[0].client_id) == ("running", "w1", None)
    assert (rows[1].state, rows[1].locked_by, rows[1].client_id) == ("queued", None, "c")
