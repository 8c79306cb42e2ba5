"""Operations API: continuity of care. Import an active authorization from the patient's previous plan
(`POST /authorizations/carried-over`), honoured for the transition window; fetch the prepared
resubmission to the new payer (`GET /authorizations/{id}/resubmission`, a PAS request Bundle).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Response

from app.api.auditing import AuditDep
from app.api.deps import RuntimeDep, SessionDep
from app.api.security import require
from app.authorizations.carry_over import CarryOverBody, Window, carry_over_of, insurer_of, resubmission
from app.errors import Issue, Unprocessable
from app.operations import AuthorizationDetail, import_carried_over
from app.security.principal import AUTHORIZATIONS_READ, AUTHORIZATIONS_WRITE, Principal

router = APIRouter(prefix="/authorizations", tags=["operations"])

ReadPrincipal = Annotated[Principal, require(AUTHORIZATIONS_READ)]
WritePrincipal = Annotated[Principal, require(AUTHORIZATIONS_WRITE)]

_PROBLEM: dict[str, Any] = {"application/problem+json": {}}


@router.post(
    "/carried-over",
    summary="Import an active authorization from the patient's previous plan (continuity of care)",
    status_code=201,
    responses={
        409: {"description": "Imported already", "content": _PROBLEM},
        422: {"description": "Unknown payer, or a period already ended", "content": _PROBLEM},
    },
)
async def authorization_carry_over(
    body: CarryOverBody,
    runtime: RuntimeDep,
    session: SessionDep,
    principal: WritePrincipal,
    audit: AuditDep,
    response: Response,
) -> AuthorizationDetail:
    if body.payer not in runtime.payers:
        text = f"no payer {body.payer!r} is configured"
        raise Unprocessable(text, issues=[Issue(text=text, code="not-found", expression="payer")])
    patterns = [(p.system, p.value) for p in runtime.payers.get(body.payer).match]
    settings = runtime.settings
    detail = await import_carried_over(
        session,
        carry_over_of(body),
        client_id=principal.client_id,
        insurer=insurer_of(body.payer, patterns),
        now=runtime.clock(),
        window=Window.of_days(settings.carry_over_window_days, settings.carry_over_warning_days),
        base_url=settings.base_url,
    )
    audit.record("authorization.carry-over", "Authorization", [detail.id])
    response.headers["Location"] = detail.links.detail
    return detail


@router.get(
    "/{authorization_id}/resubmission",
    summary="The prepared PAS request to the new payer for a carried-over authorization",
    response_class=Response,
    responses={
        200: {"content": {"application/fhir+json": {}}},
        404: {"description": "Unknown, or another client's", "content": _PROBLEM},
        409: {"description": "Not a carried-over authorization", "content": _PROBLEM},
    },
)
async def authorization_resubmission(
    authorization_id: uuid.UUID, session: SessionDep, principal: ReadPrincipal
) -> Response:
    body = await resubmission(session, authorization_id, client_id=principal.scope_client_id)
    return Response(body, media_type="application/fhir+json")
