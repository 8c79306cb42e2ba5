"""The statements behind per-target ordering (`app.notifications.ordering` decides with them).

A row's siblings are the other rows for the same target (webhook endpoint or Subscription) and
authorization; earlier ones come first by (`event_seq`, id). The common check is one statement;
the wake-up of the next sibling is one UPDATE of the job that sibling names. Rows of one target
belong to one client, so these need no other scope. Nothing here commits.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import and_, exists, false, func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.jobs.repository import JobState
from app.notifications.events import FAN_OUT
from app.notifications.states import PENDING
from app.store.models import Job, SubscriptionNotification, WebhookDelivery

Row = WebhookDelivery | SubscriptionNotification


def _target(row: Row) -> tuple[type[Row], InstrumentedAttribute[Any], uuid.UUID]:
    if isinstance(row, WebhookDelivery):
        return WebhookDelivery, WebhookDelivery.endpoint_id, row.endpoint_id
    return SubscriptionNotification, SubscriptionNotification.subscription_id, row.subscription_id


def _siblings(row: Row, *, earlier: bool, columns: tuple[Any, ...] = ()) -> Any:
    model, column, target = _target(row)
    seq = row.event_seq or 0
    before = or_(model.event_seq < seq, and_(model.event_seq == seq, model.id < row.id))
    after = or_(model.event_seq > seq, and_(model.event_seq == seq, model.id > row.id))
    return select(*(columns or (model,))).where(
        column == target,
        model.authorization_id == row.authorization_id,
        model.state == PENDING,
        before if earlier else after,
    )


async def behind(session: AsyncSession, row: Row) -> tuple[bool, bool]:
    """In one statement: is an earlier event's fan-out still to run, is an earlier sibling pending?"""
    unsent: Any = false()
    if row.event_seq is not None:
        unsent = exists().where(
            Job.kind == FAN_OUT,
            Job.authorization_id == row.authorization_id,
            Job.id < row.event_seq,
            Job.state.in_((JobState.QUEUED.value, JobState.RUNNING.value)),
        )
    model, _column, _target_id = _target(row)
    sibling = _siblings(row, earlier=True, columns=(model.id,)).exists()
    fan_out_pending, sibling_pending = (await session.execute(select(unsent, sibling))).one()
    return bool(fan_out_pending), bool(sibling_pending)


async def nearest_earlier(session: AsyncSession, row: Row) -> Row | None:
    model, _column, _target_id = _target(row)
    statement = _siblings(row, earlier=True).order_by(model.event_seq.desc(), model.id.desc()).limit(1)
    return cast("Row | None", (await session.scalars(statement)).first())


async def earlier_count(session: AsyncSession, row: Row) -> int:
    """How many earlier siblings are pending."""
    count = await session.scalar(select(func.count()).select_from(_siblings(row, earlier=True).subquery()))
    return int(count or 0)


async def job_state(session: AsyncSession, job_id: int) -> str | None:
    state: str | None = await session.scalar(select(Job.state).where(Job.id == job_id))
    return state


async def wake_next_job(session: AsyncSession, row: Row, *, now: datetime) -> bool:
    """Make the job of the nearest later pending sibling due now (if queued for later); whether one was."""
    model, _column, _target_id = _target(row)
    later = (
        _siblings(row, earlier=False, columns=(model.job_id,))
        .order_by(model.event_seq, model.id)
        .limit(1)
        .scalar_subquery()
    )
    result = await session.execute(
        update(Job)
        .where(Job.id == later, Job.state == JobState.QUEUED.value, Job.run_at > now)
        .values(run_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(cast("CursorResult[Any]", result).rowcount)


async def hold_job(session: AsyncSession, job_id: int, *, until: datetime) -> None:
    """A queued job waits until `until` (to be woken earlier by the sibling it waits for)."""
    await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.QUEUED.value)
        .values(run_at=until)
        .execution_options(synchronize_session=False)
    )
