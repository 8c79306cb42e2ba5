"""The statements behind the database figures of `/metrics` and `/readyz`: each one aggregate over
indexed or pruned tables, read at scrape time so every process answers the same.

Jobs by kind and state and the oldest due job of each kind; when a worker last touched a job and
the head of the queue; webhook and Subscription deliveries by state and webhook attempts by outcome;
the end-to-end delay of delivered notifications (a histogram summed in SQL); authorizations overdue
or expiring soon per payer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, and_, case, func, literal, not_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.jobs.repository import JobState
from app.operations import OPEN_STATUSES
from app.store.durations import seconds_between
from app.store.models import (
    Authorization,
    Job,
    SubscriptionNotification,
    WebhookAttempt,
    WebhookDelivery,
    WorkerHeartbeat,
)

DELAY_BUCKETS = (0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 1800.0, 3600.0, 21600.0, 86400.0)
EXPIRING_LEAD = timedelta(days=14)  # as the clock jobs' "expiring" event
APPROVED_STATUSES = ("approved", "partially-approved", "modified")
VISIBLE_JOB_STATES = (JobState.QUEUED.value, JobState.RUNNING.value, JobState.DEAD.value)


async def jobs_by_kind_and_state(session: AsyncSession) -> Sequence[Row[str, str, int]]:
    """(kind, state, count) of the queued, running and dead jobs."""
    result = await session.execute(
        select(Job.kind, Job.state, func.count())
        .where(Job.state.in_(VISIBLE_JOB_STATES))
        .group_by(Job.kind, Job.state)
        .order_by(Job.kind, Job.state)
    )
    return result.all()


async def oldest_due_by_kind(session: AsyncSession, now: datetime) -> Sequence[Row[str, datetime]]:
    """(kind, run_at) of the oldest queued job of each kind that is due."""
    result = await session.execute(
        select(Job.kind, func.min(Job.run_at))
        .where(Job.state == JobState.QUEUED.value, Job.run_at <= now)
        .group_by(Job.kind)
        .order_by(Job.kind)
    )
    return result.all()


async def last_worker_activity(session: AsyncSession) -> datetime | None:
    """When a worker was last seen alive: its newest heartbeat (written while idle too), or when it last
    claimed, finished or failed a job (a job only enqueued is not counted)."""
    fresh = and_(Job.state == JobState.QUEUED.value, Job.updated_at == Job.created_at)
    on_jobs: datetime | None = await session.scalar(select(func.max(Job.updated_at)).where(not_(fresh)))
    beat: datetime | None = await session.scalar(select(func.max(WorkerHeartbeat.beat_at)))
    seen = [moment for moment in (on_jobs, beat) if moment is not None]
    return max(seen) if seen else None


async def oldest_due_job(session: AsyncSession, now: datetime) -> datetime | None:
    """The run_at of the oldest queued job that is due (the head of the queue)."""
    result: datetime | None = await session.scalar(
        select(func.min(Job.run_at)).where(Job.state == JobState.QUEUED.value, Job.run_at <= now)
    )
    return result


def _attempt_outcome() -> Any:
    code = WebhookAttempt.status_code
    return case(
        (code.is_(None), literal("transport-error")),
        (code < 300, literal("2xx")),
        (code < 400, literal("3xx")),
        (code < 500, literal("4xx")),
        else_=literal("5xx"),
    )


async def webhook_deliveries_by_state(session: AsyncSession) -> Sequence[Row[str, int]]:
    """(state, count) of webhook deliveries."""
    result = await session.execute(
        select(WebhookDelivery.state, func.count()).group_by(WebhookDelivery.state).order_by(WebhookDelivery.state)
    )
    return result.all()


async def subscription_notifications_by_state(session: AsyncSession) -> Sequence[Row[str, int]]:
    """(state, count) of FHIR Subscription notifications."""
    result = await session.execute(
        select(SubscriptionNotification.state, func.count())
        .group_by(SubscriptionNotification.state)
        .order_by(SubscriptionNotification.state)
    )
    return result.all()


async def webhook_attempts_by_outcome(session: AsyncSession) -> Sequence[Row[Any]]:
    """(outcome, count) of webhook HTTP attempts: 2xx, 3xx, 4xx, 5xx or transport-error."""
    outcome = _attempt_outcome().label("outcome")
    result = await session.execute(select(outcome, func.count()).group_by(outcome).order_by(outcome))
    return result.all()


async def delivery_delays(session: AsyncSession, model: Any) -> tuple[Any, ...]:
    """Of the delivered rows of `model` (WebhookDelivery or SubscriptionNotification): their count, the
    sum of their delays in seconds, then how many took at most each of DELAY_BUCKETS (cumulative)."""
    dialect = session.get_bind().dialect.name
    delay = seconds_between(model.delivered_at, model.occurred_at, dialect)
    columns = [func.sum(case((delay <= bound, 1), else_=0)) for bound in DELAY_BUCKETS]
    row = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(delay), 0.0), *columns).where(
                model.state == "delivered", model.delivered_at.is_not(None)
            )
        )
    ).one()
    return tuple(row)


async def overdue_by_payer(session: AsyncSession, now: datetime) -> Sequence[Row[str, int]]:
    """(payer, count) of current open requests past their decision due time."""
    a = Authorization
    result = await session.execute(
        select(a.payer_id, func.count())
        .where(a.replaced_by_id.is_(None), a.status.in_(OPEN_STATUSES), a.due_at <= now)
        .group_by(a.payer_id)
        .order_by(a.payer_id)
    )
    return result.all()


async def expiring_by_payer(session: AsyncSession, now: datetime) -> Sequence[Row[str, int]]:
    """(payer, count) of current approvals whose validity ends within EXPIRING_LEAD."""
    a = Authorization
    result = await session.execute(
        select(a.payer_id, func.count())
        .where(
            a.replaced_by_id.is_(None),
            a.status.in_(APPROVED_STATUSES),
            a.expires_at > now,
            a.expires_at <= now + EXPIRING_LEAD,
        )
        .group_by(a.payer_id)
        .order_by(a.payer_id)
    )
    return result.all()
