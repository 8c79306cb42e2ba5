"""Clock and expiry job handlers: `overdue`, `expiring`, `expired` and `info-overdue` through the aggregate.

Planned by `app.authorizations.scheduling`; a job whose expiry (or due time) no longer matches the
authorization (an update moved it) does nothing.
"""

from __future__ import annotations

from app.authorizations.recording import save, state_without_items
from app.authorizations.repository import AuthorizationRepository
from app.authorizations.scheduling import EXPIRY, INFO_DUE, OVERDUE
from app.domain.clocks import is_overdue
from app.domain.codes import AuthorizationStatus
from app.domain.lifecycle import Event
from app.jobs.contract import Handler, JobContext, JobOutcome
from app.store.models import Authorization


async def current(job: JobContext) -> tuple[AuthorizationRepository, Authorization | None]:
    repository = AuthorizationRepository(job.session, None)
    if job.authorization_id is None:
        return repository, None
    authorization = await repository.get_for_update(job.authorization_id)
    if authorization is None or authorization.replaced_by_id is not None:
        return repository, None
    return repository, authorization


async def overdue(job: JobContext) -> JobOutcome | None:
    repository, authorization = await current(job)
    now = job.now()
    if authorization is None:
        return None
    if is_overdue(authorization.due_at, authorization.status, now):
        state = state_without_items(authorization)
        save(repository, authorization, state, state.overdue(now=now), items=False)
    return None


async def expiry(job: JobContext) -> JobOutcome | None:
    repository, authorization = await current(job)
    now = job.now()
    if authorization is None or authorization.expires_at is None:
        return None
    if authorization.expires_at.isoformat() != job.payload.get("expires_at"):
        return None  # the approval changed since this job was planned
    state = state_without_items(authorization)
    if not state.can(Event.EXPIRED, AuthorizationStatus.EXPIRED):
        return None
    if job.payload.get("event") == "expiring":
        save(repository, authorization, state, state.expiring(now=now), items=False)
    elif now >= authorization.expires_at:
        save(repository, authorization, state, state.expire(now=now), items=False)
    return None


async def information_due(job: JobContext) -> JobOutcome | None:
    """The documents a payer asked for are due: `info-overdue` unless they came (or the payer decided)."""
    repository, authorization = await current(job)
    now = job.now()
    if authorization is None or authorization.status is not AuthorizationStatus.INFO_REQUESTED:
        return None
    due_at = authorization.info_due_at
    if due_at is None or due_at.isoformat() != job.payload.get("due_at") or now < due_at:
        return None  # a later answer moved the due time (its own job fires then)
    state = state_without_items(authorization)
    save(repository, authorization, state, state.information_overdue(now=now), items=False)
    return None


def clock_handlers() -> dict[str, Handler]:
    return {OVERDUE: overdue, EXPIRY: expiry, INFO_DUE: information_due}
