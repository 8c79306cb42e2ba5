"""Retention: done jobs, delivered notifications (with their attempts) and old audit rows are pruned.

`maintenance.prune` is a job like any other: it deletes in bounded batches, then reschedules
itself (soon when a batch was full, else after EPA_RETENTION_INTERVAL_HOURS). Every worker makes
sure one is queued when it starts (`ensure_prune_job`); should two appear, the younger one ends
itself. The statements live in `app.maintenance.repository`; nothing here commits: the worker
commits the job's unit of work.

Periods (settings): done jobs EPA_RETENTION_JOBS_DAYS (14), delivered webhook deliveries and
Subscription notifications EPA_RETENTION_DELIVERIES_DAYS (30), audit rows
EPA_RETENTION_AUDIT_DAYS (2190, six years: HIPAA keeps audit documentation that long), questionnaire
errors DTR clients logged EPA_RETENTION_QUESTIONNAIRE_ERRORS_DAYS (365).
Failed deliveries and dead jobs are kept: they are work for an operator, not history.

On PostgreSQL, audit rows and Subscription notifications are partitioned by month (migration 0019):
a pass first detaches and drops the whole months past their period (a notifications month only when
every row in it was delivered before the cutoff), then deletes the remaining old rows in batches as
on SQLite, which covers a month straddling the cutoff and the default partition. The counts include
the rows of dropped months. See `app.maintenance.partitions`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.jobs.contract import Handler, JobContext, Reschedule
from app.jobs.repository import enqueue
from app.maintenance import repository
from app.maintenance.partitions import drop_months_before
from app.settings import Settings

PRUNE = "maintenance.prune"
BATCH = 5_000
SOON = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    jobs: timedelta
    deliveries: timedelta
    audit: timedelta
    interval: timedelta
    questionnaire_errors: timedelta = timedelta(days=365)

    @classmethod
    def of(cls, settings: Settings) -> RetentionPolicy:
        return cls(
            jobs=timedelta(days=settings.retention_jobs_days),
            deliveries=timedelta(days=settings.retention_deliveries_days),
            audit=timedelta(days=settings.retention_audit_days),
            interval=timedelta(hours=settings.retention_interval_hours),
            questionnaire_errors=timedelta(days=settings.retention_questionnaire_errors_days),
        )


async def prune(session: AsyncSession, policy: RetentionPolicy, *, now: datetime, limit: int = BATCH) -> dict[str, int]:
    """One bounded pass: whole months past their period, then at most `limit` rows of each kind; returns
    how many went, per kind."""
    dropped = {
        "subscription_notifications": await drop_months_before(
            session, "subscription_notifications", cutoff=now - policy.deliveries
        ),
        "audit_records": await drop_months_before(session, "audit_records", cutoff=now - policy.audit),
    }
    deleted = {
        "jobs": await repository.delete_done_jobs(session, updated_before=now - policy.jobs, limit=limit),
        "webhook_deliveries": await repository.delete_delivered_webhooks(
            session, delivered_before=now - policy.deliveries, limit=limit
        ),
        "subscription_notifications": await repository.delete_delivered_notifications(
            session, delivered_before=now - policy.deliveries, limit=limit
        ),
        "audit_records": await repository.delete_audit_records(session, before=now - policy.audit, limit=limit),
        "questionnaire_errors": await repository.delete_questionnaire_errors(
            session, before=now - policy.questionnaire_errors, limit=limit
        ),
    }
    return {kind: count + dropped.get(kind, 0) for kind, count in deleted.items()}


def prune_handler(settings: Settings) -> Handler:
    policy = RetentionPolicy.of(settings)

    async def handle(job: JobContext) -> Reschedule | None:
        if await repository.live_job_of_kind(job.session, PRUNE, before_id=job.job_id) is not None:
            return None  # a twin from two workers starting together: the older one carries on
        removed = await prune(job.session, policy, now=job.now())
        return Reschedule(after=SOON if max(removed.values()) >= BATCH else policy.interval)

    return handle


async def ensure_prune_job(session: AsyncSession, *, now: datetime) -> bool:
    """Queue the pruning job unless one is queued or running; True when one was added."""
    if await repository.live_job_of_kind(session, PRUNE) is not None:
        return False
    enqueue(session, PRUNE, {}, now=now, max_attempts=5)
    await session.flush()
    return True
