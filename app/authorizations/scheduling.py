"""What the lifecycle schedules: the follow-up of an open request and the clock events.

Every job here is written in the same transaction as the change that makes it necessary
(transactional outbox), through the one helper `app.jobs.planning`:
- `authorization.follow_up`: one queued per open authorization; asks the payer again until a final
  decision. Its payload says what the next run does (`FollowUpAction`).
- clock events, scheduled at the moment they fire (they survive restarts): `authorization.overdue`
  at the decision due time; `authorization.expiry` ahead of and at the end of an approval
  (`expiring`, then `expired`); `authorization.info-due` when requested documents are due. Their
  handlers are in `app.authorizations.clocks` (an appeal's deadline is the appeals sub-room's).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.clocks import expiring_soon_at
from app.jobs.planning import AuthorizationJobs, Owner
from app.store.models import Authorization, Job

FOLLOW_UP = "authorization.follow_up"
OVERDUE = "authorization.overdue"
EXPIRY = "authorization.expiry"
INFO_DUE = "authorization.info-due"
DEFAULT_EXPIRING_LEAD = timedelta(days=14)

FOLLOW_UPS = AuthorizationJobs(FOLLOW_UP)
_OVERDUE = AuthorizationJobs(OVERDUE)
_EXPIRY = AuthorizationJobs(EXPIRY)
_INFO_DUE = AuthorizationJobs(INFO_DUE)
DEFAULT_INTERVAL = timedelta(minutes=5)
MINIMUM_INTERVAL = timedelta(seconds=1)


class FollowUpAction(StrEnum):
    SUBMIT = "submit"  # the payer never received the request: send it again
    CONFIRM = "confirm"  # the payer may have it (a call timed out or a process died): inquire, submit if unknown
    INQUIRE = "inquire"  # the payer has it: ask for its decision
    CANCEL = "cancel"  # the client cancelled while the payer was unreachable


def follow_up_at(now: datetime, retry_after: timedelta | None) -> datetime:
    return now + max(retry_after or DEFAULT_INTERVAL, MINIMUM_INTERVAL)


def action_of(job: Job | Mapping[str, Any]) -> FollowUpAction:
    """What a follow-up (or its payload) does next."""
    payload = job.payload if isinstance(job, Job) else job
    return FollowUpAction(payload.get("action", FollowUpAction.INQUIRE.value))


def plan(
    session: AsyncSession, authorization: Owner, *, now: datetime, run_at: datetime, action: FollowUpAction
) -> Job:
    return FOLLOW_UPS.plan(session, authorization, {"action": action.value}, now=now, run_at=run_at)


async def replan(
    session: AsyncSession, authorization_id: uuid.UUID, *, now: datetime, run_at: datetime, action: FollowUpAction
) -> int:
    """Move the queued follow-up of an authorization; returns how many were moved."""
    return await FOLLOW_UPS.replan(session, authorization_id, {"action": action.value}, now=now, run_at=run_at)


async def plan_or_replan(
    session: AsyncSession, authorization: Owner, *, now: datetime, run_at: datetime, action: FollowUpAction
) -> None:
    await FOLLOW_UPS.plan_or_replan(session, authorization, {"action": action.value}, now=now, run_at=run_at)


async def settle(session: AsyncSession, authorization_id: uuid.UUID, *, now: datetime) -> None:
    """No more follow-up needed: queued follow-ups are done."""
    await FOLLOW_UPS.settle(session, authorization_id, now=now)


async def queued(session: AsyncSession, authorization_id: uuid.UUID) -> Job | None:
    """The queued follow-up, if any."""
    return await FOLLOW_UPS.queued(session, authorization_id)


def plan_overdue_check(session: AsyncSession, authorization: Authorization, *, now: datetime) -> None:
    if authorization.due_at is not None:
        _OVERDUE.plan(session, authorization, {}, now=now, run_at=authorization.due_at)


def plan_expiry(session: AsyncSession, authorization: Authorization, *, now: datetime, lead: timedelta) -> None:
    expires_at = authorization.expires_at
    if expires_at is None:
        return
    for event, run_at in (("expiring", max(now, expiring_soon_at(expires_at, lead))), ("expired", expires_at)):
        _EXPIRY.plan(
            session, authorization, {"event": event, "expires_at": expires_at.isoformat()}, now=now, run_at=run_at
        )


def plan_information_due(session: AsyncSession, authorization: Authorization, *, now: datetime) -> None:
    due_at = authorization.info_due_at
    if due_at is not None:
        _INFO_DUE.plan(session, authorization, {"due_at": due_at.isoformat()}, now=now, run_at=max(now, due_at))
