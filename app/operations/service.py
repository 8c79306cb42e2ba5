"""Operations use cases on authorizations: worklists, one authorization in full, follow up now, documents.

Reads are scoped to the caller's client (another client's authorization is "not found"). The
conditional read answers "not modified" from three columns, so polling costs one small query.
Changes (follow up now, cancel, appeals, imports) are the lifecycle's (`app.authorizations`); this
room shows their result.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app import authorizations
from app.authorizations import PayerCallDeps, carry_over, not_found
from app.authorizations.carry_over import CarryOver, Window
from app.domain.codes import AuthorizationStatus
from app.domain.model import Identifier
from app.operations import queries
from app.operations.appeal_views import appeal_of
from app.operations.queries import AuthorizationFilter, SummaryRow, list_summaries, validator_of
from app.operations.schemas import (
    AttachmentList,
    AuthorizationDetail,
    AuthorizationPage,
    CancelResult,
    FollowUpView,
    RefreshResult,
    attachment_of,
    etag,
    event_of,
    information_request_of,
    item_of,
    summary_of,
)
from app.store.models import Authorization

DEFAULT_RETRY_AFTER_SECONDS = 60  # open, but no follow-up queued (one is running right now)


@dataclass(frozen=True, slots=True)
class DetailAnswer:
    """The detail, or None when the caller's copy is current (304)."""

    detail: AuthorizationDetail | None
    etag: str
    retry_after: int | None  # seconds, while the payer's decision is awaited


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
    job = await authorizations.queued(session, authorization_id)
    if job is None:
        return DEFAULT_RETRY_AFTER_SECONDS
    return max(1, math.ceil((job.run_at - now).total_seconds()))


async def _load(session: AsyncSession, authorization_id: uuid.UUID, client_id: str | None) -> Authorization:
    authorization = await queries.authorization(session, authorization_id, client_id)
    if authorization is None:
        raise not_found(authorization_id)
    return authorization


async def detail_of(
    session: AsyncSession, authorization: Authorization, *, client_id: str | None, now: datetime, base_url: str
) -> AuthorizationDetail:
    timeline = await queries.timeline(session, authorization.id, client_id, since=authorization.received_at)
    summary = summary_of(SummaryRow.of(authorization), now=now, base_url=base_url)
    return AuthorizationDetail(
        **summary.model_dump(),
        preauth_ref=authorization.preauth_ref,
        items=[item_of(item) for item in authorization.items],
        timeline=[event_of(event) for event in timeline],
        appeals=[appeal_of(a, now=now) for a in await queries.appeals(session, authorization.id, client_id)],
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


async def detail(
    session: AsyncSession, authorization_id: uuid.UUID, *, client_id: str | None, now: datetime, base_url: str
) -> AuthorizationDetail:
    """One authorization in full (404 for another client's): what a change answers once it is recorded."""
    authorization = await _load(session, authorization_id, client_id)
    return await detail_of(session, authorization, client_id=client_id, now=now, base_url=base_url)


async def refresh(
    session: AsyncSession, authorization_id: uuid.UUID, *, client_id: str | None, now: datetime, base_url: str
) -> RefreshResult:
    """Follow up now: the queued follow-up moves to `now` (one is planned if none is queued)."""
    authorization = await _load(session, authorization_id, client_id)
    job = await authorizations.follow_up_now(session, authorization, now=now)
    summary = summary_of(SummaryRow.of(authorization), now=now, base_url=base_url)
    action = authorizations.action_of(job)
    return RefreshResult(
        authorization=summary, follow_up=FollowUpView(job_id=job.id, action=action.value, run_at=job.run_at)
    )


async def attachments_of(
    session: AsyncSession, authorization_id: uuid.UUID, *, client_id: str | None
) -> AttachmentList:
    """The documents sent for one of the caller's authorizations (404 for another client's)."""
    if not await queries.exists(session, authorization_id, client_id):
        raise not_found(authorization_id)
    rows = await queries.attachments(session, authorization_id, client_id)
    return AttachmentList(authorization_id=authorization_id, attachments=[attachment_of(row) for row in rows])


async def show(deps: PayerCallDeps, authorization_id: uuid.UUID, *, client_id: str | None) -> AuthorizationDetail:
    """The authorization in full, read in a session of its own after a change committed."""
    async with deps.sessions() as session:
        return await detail(
            session, authorization_id, client_id=client_id, now=deps.clock(), base_url=deps.settings.base_url
        )


async def import_carried_over(
    session: AsyncSession,
    request: CarryOver,
    *,
    client_id: str,
    insurer: Identifier,
    now: datetime,
    window: Window,
    base_url: str,
) -> AuthorizationDetail:
    """Carry over an authorization of a previous plan (the lifecycle stores it), then show it."""
    row = await carry_over.import_carried_over(
        session, request, client_id=client_id, insurer=insurer, now=now, window=window, base_url=base_url
    )
    return await detail_of(session, row, client_id=client_id, now=now, base_url=base_url)


async def cancel(
    deps: PayerCallDeps,
    authorization_id: uuid.UUID,
    *,
    client_id: str | None,
    operator: str | None = None,
    reason: str | None = None,
) -> CancelResult:
    cancelled = await authorizations.cancel(
        deps, authorization_id, client_id=client_id, operator=operator, reason=reason
    )
    job = cancelled.follow_up
    follow_up = None
    if job is not None:
        follow_up = FollowUpView(job_id=job.id, action=authorizations.action_of(job).value, run_at=job.run_at)
    shown = await show(deps, authorization_id, client_id=client_id)
    return CancelResult(payer_notified=cancelled.payer_notified, follow_up=follow_up, authorization=shown)
