"""Clock and expiry events as jobs scheduled at the moment they fire (they survive restarts).

- `authorization.overdue`: at the decision due time; records `overdue` if still undecided.
- `authorization.expiry`: ahead of and at the end of an approval; records `expiring`, then the
  transition to `expired`. A job whose expiry no longer matches the authorization (an update
  moved it) does nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.clocks import expiring_soon_at, is_overdue
from app.domain.codes import AuthorizationStatus
from app.domain.lifecycle import can_transition
from app.notifications import enqueue_event, event_type_for
from app.store import jobs
from app.store.authorizations import AuthorizationRepository
from app.store.models import Authorization
from app.worker_contract import Handler, JobContext, JobOutcome

OVERDUE = "authorization.overdue"
EXPIRY = "authorization.expiry"
DEFAULT_EXPIRING_LEAD = timedelta(days=14)


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


async def _current(job: JobContext) -> tuple[AuthorizationRepository, Authorization | None]:
    repository = AuthorizationRepository(job.session, None)
    if job.authorization_id is None:
        return repository, None
    authorization = await repository.get_for_update(job.authorization_id)
    if authorization is None or authorization.replaced_by_id is not None:
        return repository, None
    return repository, authorization


async def overdue(job: JobContext) -> JobOutcome | None:
    repository, authorization = await _current(job)
    now = job.now()
    if authorization is None:
        return None
    status = AuthorizationStatus(authorization.status)
    if is_overdue(authorization.due_at, status, now):
        enqueue_event(job.session, authorization, event_type_for("overdue"), now=now)
        repository.record_event(
            authorization,
            "overdue",
            now,
            detail={"due_at": authorization.due_at.isoformat() if authorization.due_at else None},
        )
        authorization.updated_at = now
        authorization.version += 1
    return None


async def expiry(job: JobContext) -> JobOutcome | None:
    repository, authorization = await _current(job)
    now = job.now()
    if authorization is None or authorization.expires_at is None:
        return None
    if authorization.expires_at.isoformat() != job.payload.get("expires_at"):
        return None  # the approval changed since this job was planned
    status = AuthorizationStatus(authorization.status)
    if job.payload.get("event") == "expiring":
        if can_transition(status, AuthorizationStatus.EXPIRED):
            enqueue_event(job.session, authorization, event_type_for("expiring"), now=now)
            repository.record_event(
                authorization, "expiring", now, detail={"expires_at": authorization.expires_at.isoformat()}
            )
        return None
    if (
        now >= authorization.expires_at
        and can_transition(status, AuthorizationStatus.EXPIRED)
        and status is not AuthorizationStatus.EXPIRED
    ):
        authorization.status = AuthorizationStatus.EXPIRED.value
        enqueue_event(job.session, authorization, event_type_for(AuthorizationStatus.EXPIRED.value), now=now)
        authorization.updated_at = now
        authorization.version += 1
        repository.record_event(
            authorization, "expired", now, from_status=status.value, to_status=AuthorizationStatus.EXPIRED.value
        )
    return None


def clock_handlers() -> dict[str, Handler]:
    return {OVERDUE: overdue, EXPIRY: expiry}
