"""The statements of retention: bounded batches of old rows deleted by id, and the pruning job's look-ups.

Each delete first selects at most `limit` ids in id order, then deletes exactly those (a webhook
delivery's attempts with it), so one pass holds its locks briefly whatever the backlog. Every
client's rows (retention is an operator's task). Nothing here commits: the caller's unit of work does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.jobs.repository import JobState
from app.store.models import (
    AuditRecord,
    Job,
    QuestionnaireError,
    SubscriptionNotification,
    WebhookAttempt,
    WebhookDelivery,
)

_LIVE = (JobState.QUEUED.value, JobState.RUNNING.value)


async def _delete_ids(session: AsyncSession, model: Any, condition: Any, limit: int) -> int:
    ids = list((await session.scalars(select(model.id).where(condition).order_by(model.id).limit(limit))).all())
    if ids:
        if model is WebhookDelivery:
            await session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(ids)))
        await session.execute(delete(model).where(model.id.in_(ids)).execution_options(synchronize_session=False))
    return len(ids)


async def delete_done_jobs(session: AsyncSession, *, updated_before: datetime, limit: int) -> int:
    condition = (Job.state == JobState.DONE.value) & (Job.updated_at < updated_before)
    return await _delete_ids(session, Job, condition, limit)


async def delete_delivered_webhooks(session: AsyncSession, *, delivered_before: datetime, limit: int) -> int:
    """Delivered webhook deliveries and their attempts (failed ones stay: they are work for an operator)."""
    condition = (WebhookDelivery.state == "delivered") & (WebhookDelivery.delivered_at < delivered_before)
    return await _delete_ids(session, WebhookDelivery, condition, limit)


async def delete_delivered_notifications(session: AsyncSession, *, delivered_before: datetime, limit: int) -> int:
    condition = (SubscriptionNotification.state == "delivered") & (
        SubscriptionNotification.delivered_at < delivered_before
    )
    return await _delete_ids(session, SubscriptionNotification, condition, limit)


async def delete_audit_records(session: AsyncSession, *, before: datetime, limit: int) -> int:
    return await _delete_ids(session, AuditRecord, AuditRecord.at < before, limit)


async def delete_questionnaire_errors(session: AsyncSession, *, before: datetime, limit: int) -> int:
    """What DTR clients logged with `$log-questionnaire-errors` (docs/dtr.md), by when it arrived."""
    return await _delete_ids(session, QuestionnaireError, QuestionnaireError.received_at < before, limit)


async def live_job_of_kind(session: AsyncSession, kind: str, *, before_id: int | None = None) -> int | None:
    """The id of a queued or running job of `kind` (one older than `before_id` if given), or None."""
    statement = select(Job.id).where(Job.kind == kind)
    if before_id is not None:
        statement = statement.where(Job.id < before_id)
    return await session.scalar(statement.where(Job.state.in_(list(_LIVE))).limit(1))
