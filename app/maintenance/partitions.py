"""Monthly partitions of the append-only tables (PostgreSQL): months created ahead, old months dropped.

Migration 0019 partitions `events`, `audit_records`, `coverage_assertions` and
`subscription_notifications` by month, with a default partition that takes any row whose month has
no partition yet (so an insert never fails). `maintenance.partitions` is a job like any other: it
makes sure every table has its partitions from the current month to AHEAD months on, then runs
again the next day. Each worker creates the months itself when it starts (`ensure_partitions_job`)
and queues the job unless one is queued; should two appear, the younger one ends itself. Two
workers never race on the DDL: the changes hold a transaction-scoped advisory lock, and creating a
month that exists is a no-op. Retention (`app.maintenance.retention`) drops whole months past
their period through `drop_months_before`. On SQLite all of this does nothing: the tables stay plain.
Nothing here commits: the worker commits the job's unit of work.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from app.jobs.contract import Handler, JobContext, Reschedule
from app.jobs.repository import enqueue
from app.maintenance import repository
from app.maintenance.repository import partitions as store

PARTITIONS = "maintenance.partitions"
AHEAD = 3  # months after the current one
INTERVAL = timedelta(days=1)

log = logging.getLogger(__name__)


def month_of(moment: datetime) -> date:
    return moment.astimezone(UTC).date().replace(day=1)


async def ensure_months(
    session: AsyncSession, *, now: datetime, ahead: int = AHEAD, since: datetime | None = None
) -> list[str]:
    """Create every table's missing partitions from `now`'s month (or `since`'s, when earlier) to `ahead`
    months after `now`'s; returns their names."""
    if not store.is_partitioned(session):
        return []
    await store.lock(session)
    created: list[str] = []
    for table in store.KEYS:
        existing = set(await store.months(session, table))
        month, last = month_of(min(since or now, now)), month_of(now)
        for _ in range(ahead):
            last = store.next_month(last)
        while month <= last:
            if month not in existing:
                await store.create_month(session, table, month)
                created.append(store.partition_name(table, month))
            month = store.next_month(month)
    return created


async def drop_months_before(session: AsyncSession, table: str, *, cutoff: datetime) -> int:
    """Drop `table`'s months that end by `cutoff` and hold nothing retention keeps; returns the rows dropped.

    A month straddling `cutoff` stays: retention deletes its old rows one batch at a time."""
    if not store.is_partitioned(session):
        return 0
    await store.lock(session)
    dropped = 0
    for month in await store.months(session, table):
        end = datetime.combine(store.next_month(month), datetime.min.time(), UTC)
        if end > cutoff:
            break
        if not await store.holds_rows_to_keep(session, table, month, cutoff=cutoff):
            dropped += await store.drop_month(session, table, month)
    return dropped


def partitions_handler() -> Handler:
    async def handle(job: JobContext) -> Reschedule | None:
        if await repository.live_job_of_kind(job.session, PARTITIONS, before_id=job.job_id) is not None:
            return None  # a twin from two workers starting together: the older one carries on
        await ensure_months(job.session, now=job.now())
        return Reschedule(after=INTERVAL)

    return handle


async def ensure_partitions_job(session: AsyncSession, *, now: datetime) -> bool:
    """Create the months ahead now and queue the daily job unless one is queued or running (PostgreSQL
    only); True when a job was added. The DDL runs in a savepoint: should it fail, the caller's
    transaction carries on without it."""
    if not store.is_partitioned(session):
        return False
    try:
        async with session.begin_nested():
            await ensure_months(session, now=now)
    except SQLAlchemyError as exc:  # the job tries again; inserts meanwhile land in the default partition
        log.warning("could not create the partitions ahead", extra={"error_type": type(exc).__name__})
    if await repository.live_job_of_kind(session, PARTITIONS) is not None:
        return False
    enqueue(session, PARTITIONS, {}, now=now, run_at=now + INTERVAL, max_attempts=5)
    await session.flush()
    return True
