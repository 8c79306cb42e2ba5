"""The follow-up job of an authorization: asks the payer again until a final decision.

One queued `authorization.follow_up` job per open authorization, written in the same
transaction as the change that makes it necessary (transactional outbox).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.jobs import repository as jobs
from app.store.models import Authorization, Job

FOLLOW_UP = "authorization.follow_up"
DEFAULT_INTERVAL = timedelta(minutes=5)
MINIMUM_INTERVAL = timedelta(seconds=1)


class FollowUpAction(StrEnum):
    SUBMIT = "submit"  # the payer never received the request: send it again
    CONFIRM = "confirm"  # the payer may have it (a call timed out or a process died): inquire, submit if unknown
    INQUIRE = "inquire"  # the payer has it: ask for its decision
    CANCEL = "cancel"  # the client cancelled while the payer was unreachable


def follow_up_at(now: datetime, retry_after: timedelta | None) -> datetime:
    return now + max(retry_after or DEFAULT_INTERVAL, MINIMUM_INTERVAL)


def plan(
    session: AsyncSession, authorization: Authorization, *, now: datetime, run_at: datetime, action: FollowUpAction
) -> Job:
    return jobs.enqueue(
        session,
        FOLLOW_UP,
        {"action": action.value},
        now=now,
        run_at=run_at,
        client_id=authorization.client_id,
        authorization_id=authorization.id,
    )


async def replan(
    session: AsyncSession, authorization_id: uuid.UUID, *, now: datetime, run_at: datetime, action: FollowUpAction
) -> int:
    """Move the queued follow-up of an authorization; returns how many were moved."""
    result = await session.execute(
        update(Job)
        .where(Job.authorization_id == authorization_id, Job.kind == FOLLOW_UP, Job.state == "queued")
        .values(run_at=run_at, payload={"action": action.value}, updated_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def settle(session: AsyncSession, authorization_id: uuid.UUID, *, now: datetime) -> None:
    """No more follow-up needed: queued follow-ups are done."""
    await session.execute(
        update(Job)
        .where(Job.authorization_id == authorization_id, Job.kind == FOLLOW_UP, Job.state == "queued")
        .values(state="done", updated_at=now)
    )
