"""The statements behind per-target ordering (`app.notifications.ordering` decides with them).

A row's siblings are the other rows for the same target (webhook endpoint or Subscription) and
authorization; earlier ones come first by (`event_seq`, id). The common check is one statement;
the wake-up of the next sibling is one UPDATE of the job that sibling names. Rows of one target
belong to one client, so these need no other scope. The locks (`app.store.locks`) keep a check
and the wake-up that would change its answer from crossing. Nothing here commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    BindParameter,
    Select,
    Table,
    Update,
    Uuid,
    and_,
    bindparam,
    exists,
    false,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from app.jobs import repository as jobs
from app.jobs.repository import JOBS, JobState
from app.notifications.events import FAN_OUT
from app.notifications.states import PENDING
from app.store.locks import transaction_lock
from app.store.models import Job, SubscriptionNotification, WebhookDelivery, WebhookEndpoint
from app.store.prepared import Prepared

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


def behind_columns(model: type[Row]) -> tuple[Any, Any]:
    """`behind`'s two answers as columns correlated to the row of `model` a statement selects, so the
    delivery job's look-up answers them in the same round trip (`WebhookRepository.delivery_with_endpoint`)."""
    other = aliased(model)
    target, other_target = (
        (model.endpoint_id, other.endpoint_id)  # type: ignore[union-attr]
        if model is WebhookDelivery
        else (model.subscription_id, other.subscription_id)  # type: ignore[union-attr]
    )
    fan_out = exists().where(
        Job.kind == FAN_OUT,
        Job.authorization_id == model.authorization_id,
        Job.id < model.event_seq,
        Job.state.in_((JobState.QUEUED.value, JobState.RUNNING.value)),
    )
    seq = func.coalesce(model.event_seq, 0)
    sibling = exists().where(
        other_target == target,
        other.authorization_id == model.authorization_id,
        other.state == PENDING,
        or_(other.event_seq < seq, and_(other.event_seq == seq, other.id < model.id)),
    )
    return fan_out.label("fan_out_pending"), sibling.label("sibling_pending")


async def nearest_earlier(session: AsyncSession, row: Row) -> Row | None:
    model, _column, _target_id = _target(row)
    statement = _siblings(row, earlier=True).order_by(model.event_seq.desc(), model.id.desc()).limit(1)
    return cast("Row | None", (await session.scalars(statement)).first())


async def earlier_count(session: AsyncSession, row: Row) -> int:
    """How many earlier siblings are pending."""
    count = await session.scalar(select(func.count()).select_from(_siblings(row, earlier=True).subquery()))
    return int(count or 0)


def _wake_next(model: type[Row]) -> Update:
    """`jobs.run_now` of the job the nearest later pending sibling names (`_siblings(earlier=False)`), as one
    Core statement with bound values, built once per table: every settled row runs it."""
    rows = cast("Table", model.__table__)
    target = rows.c.endpoint_id if model is WebhookDelivery else rows.c.subscription_id
    seq: BindParameter[int] = bindparam("seq")
    later = (
        select(rows.c.job_id)
        .where(
            target == bindparam("target"),
            rows.c.authorization_id == bindparam("authorization"),
            rows.c.state == PENDING,
            or_(rows.c.event_seq > seq, and_(rows.c.event_seq == seq, rows.c.id > bindparam("row"))),
        )
        .order_by(rows.c.event_seq, rows.c.id)
        .limit(1)
        .scalar_subquery()
    )
    now: BindParameter[datetime] = bindparam("now")
    return jobs.run_now_statement(later, now)


_WAKE_NEXT = {model: _wake_next(model) for model in (WebhookDelivery, SubscriptionNotification)}


def wake_next_statement(model: type[Row]) -> Update:
    """The wake-up of the next sibling's job for rows of `model`, built once; its values: `wake_next_values`.
    (A settled webhook delivery sends it within its outcome's statement, `repository.outcome`.)"""
    return _WAKE_NEXT[model]


def wake_next_values(row: Row, *, now: datetime) -> dict[str, Any]:
    """The values of `wake_next_statement`'s bound parameters for the row that settled."""
    _model, _column, target = _target(row)
    return {
        "target": target,
        "authorization": row.authorization_id,
        "seq": row.event_seq or 0,
        "row": row.id,
        "now": now,
    }


async def wake_next_job(session: AsyncSession, row: Row, *, now: datetime) -> bool:
    """Make the job of the nearest later pending sibling due now (if queued for later); whether one was.
    Rings on commit, as `jobs.run_now`."""
    return await jobs.run_now_with(session, _WAKE_NEXT[type(row)], wake_next_values(row, now=now))


async def hold_job(session: AsyncSession, job_id: int, *, until: datetime) -> None:
    """A queued job waits until `until` (to be woken earlier by the sibling it waits for)."""
    await jobs.hold(session, job_id, until=until)


async def lock_siblings(session: AsyncSession, row: Row, *, before_a_write: bool = False) -> None:
    """Until this transaction ends, no sibling decides to wait or wakes the next one (see `app.store.locks`;
    `before_a_write`: the next statement is the write the lock guards)."""
    _model, _column, target = _target(row)
    await transaction_lock(session, "delivery-order", target, row.authorization_id, before_a_write=before_a_write)


async def pending_ahead(
    session: AsyncSession, endpoint_ids: Sequence[uuid.UUID], authorization_id: uuid.UUID, event_seq: int
) -> dict[uuid.UUID, tuple[int, datetime | None]]:
    """Per endpoint with pending deliveries for the authorization from events up to `event_seq` (the rows an
    event's new deliveries would queue behind): how many, and the latest next attempt among them."""
    statement = _ahead(endpoint_ids, authorization_id, event_seq)
    return {endpoint: (int(count), due) for endpoint, count, due in (await session.execute(statement)).all()}


def _rows_ahead(authorization_id: Any, event_seq: Any) -> tuple[Any, ...]:
    """The pending deliveries for the authorization from events up to `event_seq`: what a new delivery of that
    event queues behind (read without the locks by the fan-out, then again under them: the same rows)."""
    return (
        WebhookDelivery.authorization_id == authorization_id,
        WebhookDelivery.state == PENDING,
        WebhookDelivery.event_seq <= event_seq,
    )


def _ahead(
    endpoint_ids: Sequence[uuid.UUID], authorization_id: uuid.UUID, event_seq: int
) -> Select[uuid.UUID, int, datetime | None]:
    """Per endpoint: the pending deliveries for the authorization from events up to `event_seq` (n, latest due)."""
    return (
        select(
            WebhookDelivery.endpoint_id,
            func.count().label("n"),
            func.max(WebhookDelivery.next_attempt_at).label("due"),
        )
        .where(WebhookDelivery.endpoint_id.in_(endpoint_ids), *_rows_ahead(authorization_id, event_seq))
        .group_by(WebhookDelivery.endpoint_id)
    )


def ahead_columns(authorization_id: Any, event_seq: Any) -> tuple[Any, Any]:
    """`pending_ahead`'s two answers as columns correlated to the endpoint a statement selects (how many, the
    latest next attempt), so an event's fan-out reads its endpoints and the rows ahead in one snapshot and one
    round trip (`WebhookRepository.enabled_endpoints_ahead`); the arguments may be bound parameters."""
    ahead = (WebhookDelivery.endpoint_id == WebhookEndpoint.id, *_rows_ahead(authorization_id, event_seq))
    count = select(func.count()).where(*ahead).scalar_subquery().label("ahead")
    due = select(func.max(WebhookDelivery.next_attempt_at)).where(*ahead).scalar_subquery().label("due")
    return count, due


async def lock_endpoint_siblings(session: AsyncSession, endpoint_id: uuid.UUID, authorization_id: uuid.UUID) -> None:
    """`lock_siblings` for the deliveries to `endpoint_id` of an authorization, before any row is written."""
    await transaction_lock(session, "delivery-order", endpoint_id, authorization_id)


async def lock_fan_outs(session: AsyncSession, authorization_id: uuid.UUID) -> None:
    """Until this transaction ends, no other fan-out of this authorization checks or wakes its successor."""
    await transaction_lock(session, "fan-out-order", authorization_id)


def _fan_outs(authorization: Any) -> Select[int]:
    pending = or_(JOBS.c.state == JobState.QUEUED.value, JOBS.c.state == JobState.RUNNING.value)  # no IN: prepared
    return select(JOBS.c.id).where(JOBS.c.kind == FAN_OUT, JOBS.c.authorization_id == authorization, pending)


def _fan_out_turn() -> tuple[Select[int], Update, Select[bool, int]]:
    """Built once: whether an earlier fan-out of the authorization is pending; the wake-up of the next one
    (`jobs.run_now_statement`); and on PostgreSQL both in one statement, the wake-up a data-modifying
    common table expression that runs only when no earlier one is pending (one snapshot: nothing of the
    authorization's fan-outs moves meanwhile, as every one of them checks under the same lock)."""
    authorization, job = bindparam("authorization", type_=Uuid), bindparam("job", type_=BigInteger)
    now: BindParameter[datetime] = bindparam("now")
    earlier = _fan_outs(authorization).where(JOBS.c.id < job).limit(1)
    later = _fan_outs(authorization).where(JOBS.c.id > job).order_by(JOBS.c.id).limit(1).scalar_subquery()
    wake = jobs.run_now_statement(later, now)
    pending = earlier.cte("earlier")
    woken = wake.where(~exists(pending.select())).returning(JOBS.c.id).cte("woken")
    count = select(func.count()).select_from(woken).scalar_subquery()
    both = select(exists(pending.select()).label("earlier"), count.label("woken"))
    return earlier, wake, both


_EARLIER_FAN_OUT, _WAKE_NEXT_FAN_OUT, _FAN_OUT_TURN = _fan_out_turn()
_FAN_OUT_TURN_PREPARED = Prepared(_FAN_OUT_TURN)


async def take_fan_out_turn(session: AsyncSession, authorization_id: uuid.UUID, job_id: int, *, now: datetime) -> bool:
    """Whether this fan-out's turn has come (no earlier event of the authorization waits for, or is in, its
    fan-out); if so, the next fan-out of the authorization is made due now (it runs once this one commits).
    One statement on PostgreSQL, two on SQLite. Rings on commit when a fan-out was woken."""
    values = {"authorization": authorization_id, "job": job_id, "now": now}
    if session.get_bind().dialect.name == "postgresql":
        found = (await _FAN_OUT_TURN_PREPARED.execute(session, values)).one()
        earlier, woken = bool(found.earlier), int(found.woken)
        if woken:
            jobs.became_due(session)
        return not earlier
    if (await session.execute(_EARLIER_FAN_OUT, values)).first() is not None:
        return False
    await jobs.run_now_with(session, _WAKE_NEXT_FAN_OUT, values)
    return True
