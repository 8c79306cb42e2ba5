"""Clock and expiry events as jobs scheduled at the moment they fire (they survive restarts).

- `authorization.overdue`: at the decision due time; records `overdue` if still undecided.
- `authorization.expiry`: ahead of and at the end of an approval; records `expiring`, then the
  transition to `expired`. A job whose expiry no longer matches the authorization (an update
  moved it) does nothing.
- `appeal.deadline`: at an appeal's deadline; records `appeal-overdue` if the payer has not decided it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.clocks import expiring_soon_at
from app.jobs import repository as jobs
from app.store.models import Authorization

OVERDUE = "authorization.overdue"
EXPIRY = "authorization.expiry"
INFO_DUE = "authorization.info-due"
DEFAULT_EXPIRING_LEAD = timedelta(days=14)
APPEAL_DEADLINE = "appeal.deadline"


def plan_overdue_check(session: AsyncSession, authorization: Authorization, *, now: datetime) -> None:
    if authorization.due_at is not None:
        jobs.enqueue(
            session,
            OVERDUE,
            {},
            now=now,
            run_at=authorization.due_at,
            client_id=authorization.client_id,
            authorization_id=authorization.id,
        )


def plan_expiry(session: AsyncSession, authorization: Authorization, *, now: datetime, lead: timedelta) -> None:
    expires_at = authorization.expires_at
    if expires_at is None:
        return
    for event, run_at in (("expiring", max(now, expiring_soon_at(expires_at, lead))), ("expired", expires_at)):
        jobs.enqueue(
            session,
            EXPIRY,
            {"event": event, "expires_at": expires_at.isoformat()},
            now=now,
            run_at=run_at,
            client_id=authorization.client_id,
            authorization_id=authorization.id,
        )


def plan_appeal_deadline(
    session: AsyncSession, authorization: Authorization, *, appeal_id: str, due_at: datetime, now: datetime
) -> None:
    jobs.enqueue(
        session,
        APPEAL_DEADLINE,
        {"appeal_id": appeal_id},
        now=now,
        run_at=due_at,
        client_id=authorization.client_id,
        authorization_id=authorization.id,
    )


def plan_information_due(session: AsyncSession, authorization: Authorization, *, now: datetime) -> None:
    due_at = authorization.info_due_at
    if due_at is None:
        return
    jobs.enqueue(
        session,
        INFO_DUE,
        {"due_at": due_at.isoformat()},
        now=now,
        run_at=max(now, due_at),
        client_id=authorization.client_id,
        authorization_id=authorization.id,
    )
