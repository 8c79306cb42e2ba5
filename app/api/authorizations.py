"""Operations API on authorizations: worklists, one authorization in full, follow up now, cancel.

JSON (problem+json on errors). Reads need `ops/authorizations.read`, writes
`ops/authorizations.write`; rows are scoped to the caller's client.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Response
from pydantic import BaseModel, Field

from app import operations
from app.api.auditing import AuditDep
from app.api.deps import RuntimeDep, SessionDep
from app.api.params import Instant
from app.api.security import require
from app.domain.codes import AuthorizationKind, AuthorizationStatus, Priority
from app.operations import (
    MAX_PAGE,
    AuthorizationDetail,
    AuthorizationFilter,
    AuthorizationPage,
    CancelResult,
    RefreshResult,
    cancel,
)
from app.security.principal import AUTHORIZATIONS_READ, AUTHORIZATIONS_WRITE, Principal

router = APIRouter(prefix="/authorizations", tags=["operations"])

ReadPrincipal = Annotated[Principal, require(AUTHORIZATIONS_READ)]
WritePrincipal = Annotated[Principal, require(AUTHORIZATIONS_WRITE)]

_PROBLEM: dict[str, Any] = {"application/problem+json": {}}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "Unknown, or another client's", "content": _PROBLEM}
}
_FINAL: dict[int | str, dict[str, Any]] = {409: {"description": "Final, or replaced", "content": _PROBLEM}}


def _utc(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo is not None else value.replace(tzinfo=UTC)


@router.get("", summary="Authorizations, most recently updated first, filtered, in cursor pages")
async def authorizations_index(
    runtime: RuntimeDep,
    session: SessionDep,
    principal: ReadPrincipal,
    status: Annotated[
        list[AuthorizationStatus] | None, Query(description="Any of these (repeat the parameter)")
    ] = None,
    payer: Annotated[str | None, Query(max_length=128)] = None,
    kind: AuthorizationKind | None = None,
    priority: Priority | None = None,
    overdue: Annotated[bool | None, Query(description="true: undecided past the due time")] = None,
    expiring_before: Annotated[Instant | None, Query(description="Approvals whose validity ends before")] = None,
    updated_since: Instant | None = None,
    member_id: Annotated[str | None, Query(max_length=256, description="Patient member id (exact)")] = None,
    provider: Annotated[str | None, Query(max_length=256, description='Provider identifier, "system|value"')] = None,
    include_replaced: Annotated[bool, Query(description="Also versions an update replaced")] = False,
    cursor: Annotated[str | None, Query(max_length=128, description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> AuthorizationPage:
    where = AuthorizationFilter(
        statuses=[s.value for s in status or ()],
        payer_id=payer,
        kind=kind.value if kind else None,
        priority=priority.value if priority else None,
        overdue=overdue,
        expiring_before=_utc(expiring_before),
        updated_since=_utc(updated_since),
        member_id=member_id,
        provider_identifier=provider,
        include_replaced=include_replaced,
    )
    return await operations.worklist(
        session,
        client_id=principal.scope_client_id,
        where=where,
        now=runtime.clock(),
        base_url=runtime.settings.base_url,
        cursor=cursor,
        limit=limit,
    )


@router.get(
    "/{authorization_id}",
    summary="One authorization: items with decisions, clocks, links and timeline",
    response_model=AuthorizationDetail,
    responses={304: {"description": "Not modified (If-None-Match matched the ETag)"}, **_NOT_FOUND},
)
async def authorization_detail(
    authorization_id: uuid.UUID,
    runtime: RuntimeDep,
    session: SessionDep,
    principal: ReadPrincipal,
    response: Response,
    if_none_match: Annotated[str | None, Header(max_length=512)] = None,
) -> AuthorizationDetail | Response:
    answer = await operations.read(
        session,
        authorization_id,
        client_id=principal.scope_client_id,
        now=runtime.clock(),
        base_url=runtime.settings.base_url,
        if_none_match=if_none_match,
    )
    headers = {"ETag": answer.etag, "Cache-Control": "private, no-cache"}
    if answer.retry_after is not None:
        headers["Retry-After"] = str(answer.retry_after)
    if answer.detail is None:
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return answer.detail


@router.post(
    "/{authorization_id}/refresh",
    summary="Follow up now: the queued payer follow-up runs at once (409 once decided)",
    status_code=202,
    responses={**_NOT_FOUND, **_FINAL},
)
async def authorization_refresh(
    authorization_id: uuid.UUID, runtime: RuntimeDep, session: SessionDep, principal: WritePrincipal, audit: AuditDep
) -> RefreshResult:
    audit.record("authorization.refresh", "Authorization", [authorization_id])
    return await operations.refresh(
        session,
        authorization_id,
        client_id=principal.scope_client_id,
        now=runtime.clock(),
        base_url=runtime.settings.base_url,
    )


class CancelIn(BaseModel):
    reason: str | None = Field(
        default=None, max_length=500, description="Why (kept in the timeline with who cancelled; never logged)."
    )


@router.post(
    "/{authorization_id}/cancel",
    summary="Cancel: the payer is told within the sync budget (or later), every item becomes C",
    responses={**_NOT_FOUND, **_FINAL},
)
async def authorization_cancel(
    authorization_id: uuid.UUID,
    runtime: RuntimeDep,
    principal: WritePrincipal,
    audit: AuditDep,
    body: Annotated[CancelIn | None, Body()] = None,
) -> CancelResult:
    audit.record("authorization.cancel", "Authorization", [authorization_id])
    reason = body.reason if body is not None else None
    return await cancel(
        runtime, authorization_id, client_id=principal.scope_client_id, operator=principal.client_id, reason=reason
    )
