"""Per-target ordering: a delivery waits while an earlier one for the same target and authorization is pending.

Deliveries (webhook) and notifications (Subscription) carry `event_seq`, the id of the fan-out
job of their event: ids grow in the order the events of one authorization were committed. A row
waits (1) while an earlier event's fan-out job has not run yet (its rows do not exist yet), and
(2) while an earlier sibling row is pending: it reschedules itself to when that sibling is next
tried. When a row is written by a fan-out or settles (delivered, failed or skipped), the next
pending sibling's job is woken at once; the waits only bound a wake-up lost to a race. Retries
of an earlier event therefore keep later events waiting, and nothing polls in a tight loop.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import and_, exists, false, func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.jobs.repository import JobState
from app.jobs.wakeups import ring_on_commit
from app.notifications.events import FAN_OUT
from app.store.models import Job, SubscriptionNotification, WebhookDelivery

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"
SKIPPED = "skipped"

MIN_WAIT = timedelta(milliseconds=50)
MAX_WAIT = timedelta(minutes=5)  # a waiting job looks again at least this often
IN_FLIGHT_RECHECK = timedelta(milliseconds=500)  # behind a row whose attempt is under way

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


async def _nearest_earlier(session: AsyncSession, row: Row) -> Row | None:
    model, _column, _target_id = _target(row)
    statement = _siblings(row, earlier=True).order_by(model.event_seq.desc(), model.id.desc()).limit(1)
    return cast("Row | None", (await session.scalars(statement)).first())


async def wait_for_earlier(
    session: AsyncSession, row: Row, *, now: datetime, attempt_budget: timedelta
) -> timedelta | None:
    """How long to wait for an earlier pending sibling, or None when this row may go now.

    Until the sibling's next attempt is due plus the longest an attempt takes: it wakes this job
    as soon as it settles, so the wait only matters if that wake-up raced with this check.
    """
    if row.authorization_id is None:
        return None  # pings, handshakes and heartbeats are not ordered
    # The common case in one statement: is an earlier event's fan-out still to run, is an earlier row pending?
    unsent: Any = false()
    if row.event_seq is not None:
        unsent = exists().where(
            Job.kind == FAN_OUT,
            Job.authorization_id == row.authorization_id,
            Job.id < row.event_seq,
            Job.state.in_((JobState.QUEUED.value, JobState.RUNNING.value)),
        )
    model, _column, _target_id = _target(row)
    behind = _siblings(row, earlier=True, columns=(model.id,)).exists()
    fan_out_pending, sibling_pending = (await session.execute(select(unsent, behind))).one()
    if fan_out_pending:
        return attempt_budget  # that fan-out wakes this job once it has written its rows
    if not sibling_pending:
        return None
    earlier = await _nearest_earlier(session, row)
    if earlier is None:
        return None
    if earlier.job_id is not None:
        in_flight = await session.scalar(select(Job.state).where(Job.id == earlier.job_id))
        if in_flight == JobState.RUNNING.value:
            # It is being sent right now and may settle before this job's reschedule commits; its
            # wake-up (which only moves queued jobs) would then be lost. Look again shortly instead.
            return IN_FLIGHT_RECHECK
    # The nearest earlier row wakes this one when it settles; rows further back wake theirs in
    # turn, so the wait grows with the queue ahead (it only bounds a wake-up lost to a race).
    ahead = await session.scalar(select(func.count()).select_from(_siblings(row, earlier=True).subquery()))
    due = max(earlier.next_attempt_at or now, now)
    return min(due - now + attempt_budget * max(int(ahead or 1), 1) + MIN_WAIT, MAX_WAIT)


async def wake_next(session: AsyncSession, row: Row, *, now: datetime) -> None:
    """Run the next pending sibling's job now (the row just settled): one UPDATE of the job the nearest
    later pending row names."""
    if row.authorization_id is None:
        return  # pings, handshakes and heartbeats are not ordered
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
    if cast("CursorResult[Any]", result).rowcount:
        ring_on_commit(session)


async def hold_if_behind(session: AsyncSession, row: Row, *, now: datetime, attempt_budget: timedelta) -> None:
    """A row just written behind a pending sibling: its job waits to be woken instead of running now."""
    wait = await wait_for_earlier(session, row, now=now, attempt_budget=attempt_budget)
    if wait is not None and row.job_id is not None:
        await session.execute(
            update(Job)
            .where(Job.id == row.job_id, Job.state == JobState.QUEUED.value)
            .values(run_at=now + wait)
            .execution_options(synchronize_session=False)
        )
