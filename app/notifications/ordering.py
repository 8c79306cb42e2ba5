"""Per-target ordering: a delivery waits while an earlier one for the same target and authorization is pending.

Deliveries (webhook) and notifications (Subscription) are numbered by their row id, which grows
in the order the fan-out wrote them. A job whose row has an earlier pending sibling reschedules
itself to when that sibling is next tried; when a row settles (delivered, failed or skipped),
the job of the next pending sibling is woken at once. Retries of an earlier event therefore
keep later events waiting, and nothing polls in a tight loop.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.store.jobs import JobState
from app.store.models import Job, SubscriptionNotification, WebhookDelivery

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"
SKIPPED = "skipped"

MIN_WAIT = timedelta(milliseconds=200)
MAX_WAIT = timedelta(minutes=5)  # a waiting job looks again at least this often

Row = WebhookDelivery | SubscriptionNotification


def _target(row: Row) -> tuple[type[Row], InstrumentedAttribute[Any], uuid.UUID]:
    if isinstance(row, WebhookDelivery):
        return WebhookDelivery, WebhookDelivery.endpoint_id, row.endpoint_id
    return SubscriptionNotification, SubscriptionNotification.subscription_id, row.subscription_id


async def _sibling(session: AsyncSession, row: Row, *, earlier: bool) -> Row | None:
    model, column, target = _target(row)
    if row.authorization_id is None:
        return None  # pings, handshakes and heartbeats are not ordered
    statement = select(model).where(
        column == target,
        model.authorization_id == row.authorization_id,
        model.state == PENDING,
        model.id < row.id if earlier else model.id > row.id,
    )
    statement = statement.order_by(model.id.desc() if earlier else model.id).limit(1)
    return cast("Row | None", (await session.scalars(statement)).first())


async def wait_for_earlier(session: AsyncSession, row: Row, *, now: datetime) -> timedelta | None:
    """How long to wait for an earlier pending sibling, or None when this row may go now."""
    earlier = await _sibling(session, row, earlier=True)
    if earlier is None:
        return None
    due = earlier.next_attempt_at or now
    return min(max(due - now + MIN_WAIT, MIN_WAIT), MAX_WAIT)


async def wake_next(session: AsyncSession, row: Row, *, now: datetime) -> None:
    """Run the next pending sibling's job now (the row just settled)."""
    later = await _sibling(session, row, earlier=False)
    if later is None or later.job_id is None:
        return
    await session.execute(
        update(Job)
        .where(Job.id == later.job_id, Job.state == JobState.QUEUED.value, Job.run_at > now)
        .values(run_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
