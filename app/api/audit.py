"""`GET /audit` (JSON pages) and `GET /audit/AuditEvent` (a FHIR searchset Bundle): admins only."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import Response
from orjson import dumps
from pydantic import AfterValidator, AwareDatetime, BaseModel

from app.api.deps import RuntimeDep, SessionDep
from app.api.security import require
from app.domain.bounds import bounded_instant
from app.errors import InvalidRequest
from app.security.audit import AuditQuery, find_audit, next_audit_cursor
from app.security.audit_event import audit_bundle
from app.security.principal import ADMIN, Principal

router = APIRouter(prefix="/audit", tags=["audit"])


class AuditItem(BaseModel):
    id: int
    at: datetime
    client_id: str
    operation: str
    resource_type: str | None
    resource_ids: list[str]
    outcome: int
    request_id: str | None


class AuditPage(BaseModel):
    items: list[AuditItem]
    next_cursor: str | None


ClientFilter = Annotated[str | None, Query(max_length=128, description="Only this client's records.")]
OperationFilter = Annotated[str | None, Query(max_length=64, description="Only this operation, e.g. auth.token.")]
SinceFilter = Annotated[
    Annotated[AwareDatetime, AfterValidator(bounded_instant)] | None,
    Query(description="Only records at or after this instant (1900 to 2999)."),
]
Cursor = Annotated[str | None, Query(max_length=20, pattern=r"^[0-9]+$", description="next_cursor of the last page.")]
Limit = Annotated[int, Query(ge=1, le=500)]


def _query(
    client: str | None, operation: str | None, since: datetime | None, cursor: str | None, limit: int
) -> AuditQuery:
    before = int(cursor) if cursor else None
    if before is not None and before > 2**62:
        raise InvalidRequest("cursor out of range")
    return AuditQuery(client_id=client, operation=operation, since=since, before_id=before, limit=limit)


@router.get("", summary="Audit records, newest first", response_model=AuditPage)
async def list_audit(
    session: SessionDep,
    _admin: Annotated[Principal, require(ADMIN)],
    client: ClientFilter = None,
    operation: OperationFilter = None,
    since: SinceFilter = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> AuditPage:
    records = await find_audit(session, _query(client, operation, since, cursor, limit))
    items = [AuditItem.model_validate(record, from_attributes=True) for record in records]
    return AuditPage(items=items, next_cursor=next_audit_cursor(records, limit))


@router.get(
    "/AuditEvent",
    summary="Audit records as a FHIR searchset Bundle of AuditEvent resources",
    response_class=Response,
    responses={200: {"content": {"application/fhir+json": {"schema": {"type": "object"}}}}},
)
async def audit_events(
    session: SessionDep,
    runtime: RuntimeDep,
    _admin: Annotated[Principal, require(ADMIN)],
    client: ClientFilter = None,
    operation: OperationFilter = None,
    since: SinceFilter = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> Response:
    records = await find_audit(session, _query(client, operation, since, cursor, limit))
    base = runtime.settings.base_url
    next_cursor = next_audit_cursor(records, limit)
    next_url = None
    if next_cursor is not None:
        params: dict[str, Any] = {"client": client, "operation": operation, "since": since and since.isoformat()}
        params = {k: v for k, v in params.items() if v} | {"cursor": next_cursor, "limit": limit}
        next_url = f"{base}/audit/AuditEvent?{urlencode(params)}"
    return Response(dumps(audit_bundle(records, base, next_url)), media_type="application/fhir+json")
