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

import orjson
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from app.api.auditing import AuditDep
from app.api.deps import RuntimeDep, SessionDep
from app.api.fhir_claims import fhir_response, read_fhir_body
from app.api.params import PlainText
from app.api.security import require
from app.authorizations.usage import (
    UsageInput,
    UsageReport,
    UsageSummary,
    extension_bundle,
    record_charge_item,
    record_usage,
    usage_summary,
)
from app.domain.bounds import INT32_MAX, QUANTITY_MAX, USAGE_REFERENCE_LENGTH
from app.errors import InvalidRequest
from app.fhir.charge_item import parse_charge_item
from app.security.principal import AUTHORIZATIONS_READ, AUTHORIZATIONS_WRITE, CLAIM_CREATE, Principal

router = APIRouter(prefix="/authorizations", tags=["operations"])
fhir_router = APIRouter(prefix="/fhir", tags=["FHIR (Da Vinci PAS)"])

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
    reference: Annotated[
        PlainText | None,
        Field(
            min_length=1,
            max_length=USAGE_REFERENCE_LENGTH,
            description="Your id of this report (a visit, a claim line): sent again, it is answered, not counted.",
        ),
    ] = None


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
    response: Response,
) -> UsageReport:
    audit.record("authorization.usage", "Authorization", [authorization_id])
    threshold = Decimal(runtime.settings.usage_exhausting_percent) / 100
    report = UsageInput(units=body.units, item=body.item, service_date=body.service_date, reference=body.reference)
    answer = await record_usage(
        session,
        authorization_id,
        report,
        client_id=principal.scope_client_id,
        now=runtime.clock(),
        threshold=threshold,
    )
    if answer.replayed:
        response.status_code = 200
    return answer


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


@fhir_router.post(
    "/ChargeItem",
    status_code=201,
    summary="Report units used of an approval as a ChargeItem naming its ClaimResponse",
    description="`code` picks the authorized item, `quantity.value` is the units, `occurrence[x]` the date of "
    "service, `supportingInformation` references `ClaimResponse/{id}` (the id `$submit` answered). Counts as "
    "`POST /authorizations/{id}/usage` does; answers 201 with the ChargeItem, its id and a `Location` header "
    "(FHIR R4 create; 200 for a replay). Scope "
    "`system/Claim.write`.",
    responses={
        201: {
            "content": {"application/fhir+json": {}},
            "headers": {"Location": {"description": "The created ChargeItem", "schema": {"type": "string"}}},
        }
    },
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/fhir+json": {"schema": {"type": "object"}}}}
    },
)
async def charge_item_create(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    principal: Annotated[Principal, require(CLAIM_CREATE)],
    audit: AuditDep,
) -> Response:
    body = await read_fhir_body(request, runtime.settings.max_body_bytes)
    try:
        resource = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidRequest("the body is not JSON") from None
    if not isinstance(resource, dict):
        raise InvalidRequest("the body must be a JSON object")
    charge = parse_charge_item(resource)
    audit.record("authorization.usage", "Authorization", [charge.authorization_id])
    report = await record_charge_item(
        session,
        charge,
        client_id=principal.scope_client_id,
        now=runtime.clock(),
        threshold=Decimal(runtime.settings.usage_exhausting_percent) / 100,
    )
    created = {**resource, "id": f"{report.authorization_id}-{report.report_id}"}
    location = {"Location": f"{runtime.settings.base_url}/fhir/ChargeItem/{created['id']}"}  # FHIR R4 create
    return fhir_response(created, 200 if report.replayed else 201, location)
