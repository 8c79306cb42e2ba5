"""Retention: done jobs, delivered notifications (with their attempts) and old audit rows are pruned.

`maintenance.prune` is a job like any other: it deletes in bounded batches, then reschedules
itself (soon when a batch was full, else after EPA_RETENTION_INTERVAL_HOURS). Every worker makes
sure one is queued when it starts (`ensure_prune_job`); should two appear, the younger one ends
itself. Nothing here commits: the worker commits the job's unit of work.

Periods (settings): done jobs EPA_RETENTION_JOBS_DAYS (14), delivered webhook deliveries and
Subscription notifications EPA_RETENTION_DELIVERIES_DAYS (30), audit rows
EPA_RETENTION_AUDIT_DAYS (2190, six years: HIPAA keeps audit documentation that long).
Failed deliveries and dead jobs are kept: they are work for an operator, not history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.jobs.contract import Handler, JobContext, Reschedule
from app.jobs.repository import JobState, enqueue
from app.settings import Settings
from app.store.models import AuditRecord, Job, SubscriptionNotification, WebhookAttempt, WebhookDelivery

PRUNE = "maintenance.prune"
BATCH = 5_000
SOON = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    jobs: timedelta
    deliveries: timedelta
    audit: timedelta
    interval: timedelta

    @classmethod
    def of(cls, settings: Settings) -> RetentionPolicy:
        return cls(
            jobs=timedelta(days=settings.retention_jobs_days),
            deliveries=timedelta(days=settings.retention_deliveries_days),
            audit=timedelta(days=settings.retention_audit_days),
            interval=timedelta(hours=settings.retention_interval_hours),
        )


async def _delete_ids(session: AsyncSession, model: Any, condition: Any, limit: int) -> int:
    ids = list((await session.scalars(select(model.id).where(condition).order_by(model.id).limit(limit))).all())
    if ids:
        if model is WebhookDelivery:
            await session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(ids)))
        await session.execute(delete(model).where(model.id.in_(ids)).execution_options(synchronize_session=False))
    return len(ids)


async def prune(session: AsyncSession, policy: RetentionPolicy, *, now: datetime, limit: int = BATCH) -> dict[str, int]:
    """One bounded pass: at most `limit` rows of each kind; returns how many went, per kind."""
    return {
        "jobs": await _delete_ids(
            session, Job, (Job.state == JobState.DONE.value) & (Job.updated_at < now - policy.jobs), limit
        ),
        "webhook_deliveries": await _delete_ids(
            session,
            WebhookDelivery,
            (WebhookDelivery.state == "delivered") & (WebhookDelivery.delivered_at < now - policy.deliveries),
            limit,
        ),
        "subscription_notifications": await _delete_ids(
            session,
            SubscriptionNotification,
            (SubscriptionNotification.state == "delivered")
            & (SubscriptionNotification.delivered_at < now - policy.deliveries),
            limit,
        ),
        "audit_records": await _delete_ids(session, AuditRecord, AuditRecord.at < now - policy.audit, limit),
    }


def prune_handler(settings: Settings) -> Handler:
    policy = RetentionPolicy.of(settings)

    async def handle(job: JobContext) -> Reschedule | None:
        older = await job.session.scalar(
            select(Job.id)
            .where(
                Job.kind == PRUNE, Job.id < job.job_id, Job.state.in_([JobState.QUEUED.value, JobState.RUNNING.value])
            )
            .limit(1)
        )
        if older is not None:
            return None  # a twin from two workers starting together: the older one carries on
        removed = await prune(job.session, policy, now=job.now())
        return Reschedule(after=SOON if max(removed.values()) >= BATCH else policy.interval)

    return handle


async def ensure_prune_job(session: AsyncSession, *, now: datetime) -> bool:
    """Queue the pruning job unless one is queued or running; True when one was added."""
    found = await session.scalar(
        select(Job.id).where(Job.kind == PRUNE, Job.state.in_([JobState.QUEUED.value, JobState.RUNNING.value])).limit(1)
    )
    if found is not None:
        return False
    enqueue(session, PRUNE, {}, now=now, max_attempts=5)
    await session.flush()
    return True
