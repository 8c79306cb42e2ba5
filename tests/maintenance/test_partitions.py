"""Monthly partitions on PostgreSQL: rows land in their month (or the default partition), the worker keeps
months created ahead without racing itself, and retention drops whole months past their period.
SQLite keeps plain tables: the same calls do nothing there."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from app.jobs.loop import Worker
from app.jobs.repository import JobState
from app.maintenance.partitions import PARTITIONS, ensure_months, ensure_partitions_job
from app.maintenance.repository import partitions as store
from app.maintenance.retention import RetentionPolicy, prune
from app.runtime import Runtime
from app.store.models import AuditRecord, Job
from app.worker import default_handlers
from tests.support.clock import MovableClock


def _on_postgresql(runtime: Runtime) -> bool:
    return runtime.engine.dialect.name == "postgresql"


def _audit(at: datetime) -> AuditRecord:
    return AuditRecord(at=at, client_id="c", operation="claim.submit", resource_ids=[], outcome=200)


async def _partition_of(runtime: Runtime, at: datetime) -> str:
    async with runtime.sessions() as session:
        found = await session.scalar(
            text("SELECT tableoid::regclass::text FROM audit_records WHERE at = :at"), {"at": at}
        )
    return str(found)


async def _months(runtime: Runtime, table: str) -> list[date]:
    async with runtime.sessions() as session:
        return await store.months(session, table)


async def test_on_sqlite_the_tables_stay_plain_and_no_partition_job_is_queued(runtime: Runtime) -> None:
    if _on_postgresql(runtime):
        pytest.skip("SQLite only")
    async with runtime.sessions() as session:
        assert await ensure_months(session, now=runtime.clock()) == []
        assert await ensure_partitions_job(session, now=runtime.clock()) is False
        assert await session.scalar(select(func.count()).select_from(Job).where(Job.kind == PARTITIONS)) == 0


async def test_rows_land_in_their_month_and_in_the_default_partition_when_it_has_none(
    runtime: Runtime, clock: MovableClock
) -> None:
    if not _on_postgresql(runtime):
        pytest.skip("PostgreSQL only")
    async with runtime.sessions() as session:
        await ensure_months(session, now=clock.now)
        session.add_all([_audit(clock.now), _audit(datetime(2099, 1, 15, tzinfo=UTC))])
        await session.commit()
    assert await _partition_of(runtime, clock.now) == "epa_partitions.audit_records_2030_05"
    assert await _partition_of(runtime, datetime(2099, 1, 15, tzinfo=UTC)) == "epa_partitions.audit_records_default"


async def test_the_worker_creates_months_ahead_once_and_a_twin_job_ends(runtime: Runtime, clock: MovableClock) -> None:
    if not _on_postgresql(runtime):
        pytest.skip("PostgreSQL only")
    ahead = [date(2030, 5, 1), date(2030, 6, 1), date(2030, 7, 1), date(2030, 8, 1)]
    async with runtime.sessions() as session:
        assert await ensure_partitions_job(session, now=clock.now) is True
        assert await ensure_partitions_job(session, now=clock.now) is False  # one is queued already
        assert await ensure_months(session, now=clock.now) == []  # idempotent
        await session.commit()
    for table in store.KEYS:
        assert set(ahead) <= set(await _months(runtime, table))
    clock.advance(timedelta(days=40))  # into June: the job runs and adds September
    await Worker(runtime.sessions, default_handlers(runtime), clock=clock).run_once()
    for table in store.KEYS:
        assert date(2030, 9, 1) in await _months(runtime, table)
    async with runtime.sessions() as session:
        (job,) = (await session.scalars(select(Job).where(Job.kind == PARTITIONS))).all()
    assert job.state == JobState.QUEUED.value
    assert job.run_at == clock.now + timedelta(days=1)


async def test_a_month_that_rows_reached_first_takes_them_out_of_the_default_partition(runtime: Runtime) -> None:
    if not _on_postgresql(runtime):
        pytest.skip("PostgreSQL only")
    early = datetime(2045, 1, 15, tzinfo=UTC)
    async with runtime.sessions() as session:
        session.add(_audit(early))
        await session.commit()
    assert await _partition_of(runtime, early) == "epa_partitions.audit_records_default"
    async with runtime.sessions() as session:
        await ensure_months(session, now=datetime(2044, 11, 2, tzinfo=UTC))  # November to February
        await session.commit()
    assert await _partition_of(runtime, early) == "epa_partitions.audit_records_2045_01"


async def test_retention_drops_months_past_the_period_and_deletes_old_rows_of_the_straddling_month(
    runtime: Runtime,
) -> None:
    if not _on_postgresql(runtime):
        pytest.skip("PostgreSQL only")
    policy = RetentionPolicy(
        jobs=timedelta(days=14), deliveries=timedelta(days=30), audit=timedelta(days=30), interval=timedelta(hours=6)
    )
    now = datetime(2001, 3, 17, tzinfo=UTC)  # the cutoff is 2001-02-15
    rows = [datetime(2001, 1, 10, tzinfo=UTC), datetime(2001, 1, 20, tzinfo=UTC)]
    rows += [datetime(2001, 2, 5, tzinfo=UTC), datetime(2001, 2, 20, tzinfo=UTC), datetime(2001, 3, 1, tzinfo=UTC)]
    async with runtime.sessions() as session:
        await store.lock(session)
        for month in (date(2001, 1, 1), date(2001, 2, 1), date(2001, 3, 1)):
            await store.create_month(session, "audit_records", month)
        session.add_all([_audit(at) for at in rows])
        await session.commit()
    async with runtime.sessions() as session:
        removed = await prune(session, policy, now=now)
        await session.commit()
    assert removed["audit_records"] == 3  # two with January's partition, one deleted from February's
    months = await _months(runtime, "audit_records")
    assert date(2001, 1, 1) not in months
    assert {date(2001, 2, 1), date(2001, 3, 1)} <= set(months)
    async with runtime.sessions() as session:
        kept = (
            await session.scalars(select(AuditRecord.at).where(AuditRecord.at < datetime(2002, 1, 1, tzinfo=UTC)))
        ).all()
    assert sorted(kept) == rows[3:]
