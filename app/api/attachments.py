"""Operations API: the documents sent for an authorization (CDex `$submit-attachment` or a PAS update).

Metadata only (type, size, sha256, when received and forwarded), never the content. Scope
`ops/authorizations.read`; another client's authorization answers 404.

`/exchanges`: the documents a payer adapter exchanged on the wire (the raw X12 278s), with their
trace and control numbers; they carry PHI, so the admin scope only.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter

from app.api.auditing import AuditDep
from app.api.deps import SessionDep
from app.api.security import require
from app.operations import AttachmentList, ExchangeList, attachments_of, exchanges_of
from app.security.principal import ADMIN, AUTHORIZATIONS_READ, Principal

router = APIRouter(prefix="/authorizations", tags=["operations"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "Unknown, or another client's", "content": {"application/problem+json": {}}}
}


@router.get(
    "/{authorization_id}/attachments",
    summary="The documents sent for an authorization (metadata, never content)",
    responses=_NOT_FOUND,
)
async def authorization_attachments(
    authorization_id: uuid.UUID,
    session: SessionDep,
    principal: Annotated[Principal, require(AUTHORIZATIONS_READ)],
    audit: AuditDep,
) -> AttachmentList:
    audit.record("authorization.attachments", "Authorization", [authorization_id])
    return await attachments_of(session, authorization_id, client_id=principal.scope_client_id)


@router.get(
    "/{authorization_id}/exchanges",
    summary="The documents exchanged with the payer (raw X12 278s; PHI, admin scope)",
    responses=_NOT_FOUND,
)
async def authorization_exchanges(
    authorization_id: uuid.UUID,
    session: SessionDep,
    principal: Annotated[Principal, require(ADMIN)],
    audit: AuditDep,
) -> ExchangeList:
    audit.record("authorization.exchanges", "Authorization", [authorization_id])
    return await exchanges_of(session, authorization_id, client_id=principal.scope_client_id)
