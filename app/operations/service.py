"""Operations use cases on authorizations: worklists, one authorization in full, follow up now.

Reads are scoped to the caller's client (another client's authorization is "not found"). The
conditional read answers "not modified" from three columns, so polling costs one small query.
Cancelling lives in app.operations.cancel (it calls the payer).
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer, selectinload

from app.authorizations import tasks as followups
from app.authorizations.appeals.repository import AppealRepository
from app.authorizations.repository import AuthorizationRepository
from app.authorizations.tasks import FOLLOW_UP, FollowUpAction
from app.domain.codes import AuthorizationStatus
from app.errors import Conflict, NotFound
from app.operations.appeal_views import appeal_of
from app.operations.schemas import (
    AuthorizationDetail,
    AuthorizationPage,
    FollowUpView,
    RefreshResult,
    etag,
    event_of,
    information_request_of,
    item_of,
    summary_of,
)
from app.operations.worklist import (
    AuthorizationFilter,
    SummaryRow,
    list_summaries,
    queued_job,
    validator_of,
)
from app.store.models import Authorization

DEFAULT_RETRY_AFTER_SECONDS = 60  # open, but no follow-up queued (one is running right now)


@dataclass(frozen=True, slots=True)
class DetailAnswer:
    """The detail, or None when the caller's copy is current (304)."""

    detail: AuthorizationDetail | None
    etag: str
    retry_after: int | None  # seconds, while the payer's decision is awaited


def not_found(authorization_id: uuid.UUID) -> NotFound:
    return NotFound(f"authorization {authorization_id} not found")


def matches(if_none_match: str | None, tag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {part.strip().removeprefix("W/") for part in if_none_match.split(",")}
    return "*" in candidates or tag in candidates


async def worklist(
    session: AsyncSession,
    *,
    client_id: str | None,
    where: AuthorizationFilter,
    now: datetime,
    base_url: str,
    cursor: str | None,
    limit: int,
) -> AuthorizationPage:
    page = await list_summaries(session, client_id=client_id, where=where, now=now, cursor=cursor, limit=limit)
    return AuthorizationPage(
        authorizations=[summary_of(row, now=now, base_url=base_url) for row in page.rows],
        next_cursor=page.next_cursor,
    )


async def retry_after(
    session: AsyncSession, authorization_id: uuid.UUID, status: AuthorizationStatus, now: datetime
) -> int | None:
    """Seconds until the queued follow-up runs, while the decision is awaited; None once decided."""
    if not status.is_open:
        return None
    job = await queued_job(session, authorization_id, FOLLOW_UP)
    if job is None:
        return DEFAULT_RETRY_AFTER_SECONDS
    return max(1, math.ceil((job.run_at - now).total_seconds()))


async def _load(session: AsyncSession, authorization_id: uuid.UUID, client_id: str | None) -> Authorization:
    statement = (
        select(Authorization)
        .where(Authorization.id == authorization_id)
        .options(
            defer(Authorization.request_document),
            defer(Authorization.response_document),
            selectinload(Authorization.items),
        )
    )
    if client_id is not None:
        statement = statement.where(Authorization.client_id == client_id)
    authorization = (await session.execute(statement)).scalar_one_or_none()
    if authorization is None:
        raise not_found(authorization_id)
    return authorization


async def detail_of(
    session: AsyncSession, authorization: Authorization, *, client_id: str | None, now: datetime, base_url: str
) -> AuthorizationDetail:
    timeline = await AuthorizationRepository(session, client_id).timeline(authorization.id)
    summary = summary_of(SummaryRow.of(authorization), now=now, base_url=base_url)
    return AuthorizationDetail(
        **summary.model_dump(),
        preauth_ref=authorization.preauth_ref,
        items=[item_of(item) for item in authorization.items],
        timeline=[event_of(event) for event in timeline],
        appeals=[
            appeal_of(a, now=now) for a in await AppealRepository(session, client_id).of_authorization(authorization.id)
        ],
        information_request=information_request_of(
            authorization.status, authorization.info_due_at, authorization.info_request, now=now
        ),
    )


async def read(
    session: AsyncSession,
    authorization_id: uuid.UUID,
    *,
    client_id: str | None,
    now: datetime,
    base_url: str,
    if_none_match: str | None = None,
) -> DetailAnswer:
    if if_none_match:
        validator = await validator_of(session, authorization_id, client_id=client_id)
        if validator is None:
            raise not_found(authorization_id)
        tag = etag(authorization_id, validator.version, replaced=validator.replaced)
        if matches(if_none_match, tag):
            return DetailAnswer(None, tag, await retry_after(session, authorization_id, validator.status, now))
    authorization = await _load(session, authorization_id, client_id)
    detail = await detail_of(session, authorization, client_id=client_id, now=now, base_url=base_url)
    tag = etag(authorization.id, authorization.version, replaced=authorization.replaced_by_id is not None)
    return DetailAnswer(detail, tag, await retry_after(session, authorization.id, authorization.status, now))


async def refresh(
    session: AsyncSession, authorization_id: uuid.UUID, *, client_id: str | None, now: datetime, base_url: str
) -> RefreshResult:
    """Follow up now: the queued follow-up moves to `now` (one is planned if none is queued)."""
    authorization = await _load(session, authorization_id, client_id)
    if authorization.replaced_by_id is not None:
        raise Conflict(f"authorization {authorization_id} was replaced by {authorization.replaced_by_id}")
    status = authorization.status
    if not status.is_open:
        raise Conflict(f"authorization {authorization_id} is {status.value}: there is no decision to wait for")
    job = await queued_job(session, authorization.id, FOLLOW_UP)
    if job is not None:
        action = FollowUpAction(job.payload.get("action", FollowUpAction.INQUIRE.value))
        await followups.replan(session, authorization.id, now=now, run_at=now, action=action)
        await session.refresh(job)
    else:
        action = FollowUpAction.INQUIRE if authorization.payer_reference else FollowUpAction.CONFIRM
        job = followups.plan(session, authorization, now=now, run_at=now, action=action)
        await session.flush()
    summary = summary_of(SummaryRow.of(authorization), now=now, base_url=base_url)
    return RefreshResult(
        authorization=summary, follow_up=FollowUpView(job_id=job.id, action=action.value, run_at=job.run_at)
    )
