"""Operations API: units and visits used of an approval, and the concurrent review prefilled from them.

`POST /authorizations/{id}/usage` counts units (409 unless the authorization is a current approval;
use beyond what was authorized is recorded and flagged, never refused); `GET .../usage` shows the
counts; `GET .../extension-request` answers a PAS request Bundle (concurrent review) the EHR can send
to `Claim/$submit` as it is.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from app.api.auditing import AuditDep
from app.api.deps import RuntimeDep, SessionDep
from app.api.security import require
from app.domain.bounds import INT32_MAX, QUANTITY_MAX
from app.security.principal import AUTHORIZATIONS_READ, AUTHORIZATIONS_WRITE, Principal
from app.services.usage import UsageInput, UsageReport, UsageSummary, extension_bundle, record_usage, usage_summary

router = APIRouter(prefix="/authorizations", tags=["operations"])

ReadPrincipal = Annotated[Principal, require(AUTHORIZATIONS_READ)]
WritePrincipal = Annotated[Principal, require(AUTHORIZATIONS_WRITE)]

_PROBLEM: dict[str, Any] = {"application/problem+json": {}}
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "Unknown, or another client's", "content": _PROBLEM},
    409: {"description": "Not a current approval, or the item has no authorized units", "content": _PROBLEM},
}


class UsageBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    units: Annotated[Decimal, Field(gt=0, le=QUANTITY_MAX, decimal_places=3, description="Units or visits used.")]
    item: Annotated[int | None, Field(ge=1, le=INT32_MAX, description="Item sequence (needed if several).")] = None
    service_date: date | None = Field(
        default=None, alias="date", description="Date of service (within the authorized period)."
    )


@router.post(
    "/{authorization_id}/usage",
    summary="Count units or visits used against an approved item (exhausting / exhausted fire once each)",
    status_code=201,
    responses=_ERRORS,
)
async def authorization_usage_record(
    authorization_id: uuid.UUID,
    body: UsageBody,
    runtime: RuntimeDep,
    session: SessionDep,
    principal: WritePrincipal,
    audit: AuditDep,
) -> UsageReport:
    audit.record("authorization.usage", "Authorization", [authorization_id])
    threshold = Decimal(runtime.settings.usage_exhausting_percent) / 100
    report = UsageInput(units=body.units, item=body.item, service_date=body.service_date)
    return await record_usage(
        session,
        authorization_id,
        report,
        client_id=principal.scope_client_id,
        now=runtime.clock(),
        threshold=threshold,
    )


@router.get(
    "/{authorization_id}/usage",
    summary="Units used, authorized and remaining per approved item, and every report",
    responses={404: _ERRORS[404]},
)
async def authorization_usage_read(
    authorization_id: uuid.UUID, session: SessionDep, principal: ReadPrincipal
) -> UsageSummary:
    return await usage_summary(session, authorization_id, client_id=principal.scope_client_id)


@router.get(
    "/{authorization_id}/extension-request",
    summary="A concurrent review (PAS request Bundle) asking for more units, prefilled from the usage",
    response_class=Response,
    responses={200: {"content": {"application/fhir+json": {}}}, **_ERRORS},
)
async def authorization_extension_request(
    authorization_id: uuid.UUID, runtime: RuntimeDep, session: SessionDep, principal: ReadPrincipal
) -> Response:
    body = await extension_bundle(session, authorization_id, client_id=principal.scope_client_id, now=runtime.clock())
    return Response(body, media_type="application/fhir+json")
