"""Operations API on appeals: lodge an appeal, record its outcome (another channel), peer-to-peer reviews.

JSON (problem+json on errors). Writes need `ops/authorizations.write`; rows are scoped to the
caller's client (another client's authorization is 404). The authorization detail
(`GET /authorizations/{id}`) shows the appeals.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field, field_validator

from app import operations
from app.api.auditing import AuditDep
from app.api.deps import RuntimeDep
from app.api.params import PlainText
from app.api.security import require
from app.authorizations import appeals
from app.domain.bounds import (
    APPEAL_DOCUMENT_MAX_BYTES,
    APPEAL_DOCUMENT_TITLE_LENGTH,
    APPEAL_DOCUMENT_TYPE_LENGTH,
    APPEAL_DOCUMENTS_MAX,
    APPEAL_REASON_LENGTH,
)
from app.operations import AppealView, AuthorizationDetail
from app.payers.appeals import AppealDocument
from app.security.principal import AUTHORIZATIONS_WRITE, Principal

router = APIRouter(prefix="/authorizations", tags=["operations"])

WritePrincipal = Annotated[Principal, require(AUTHORIZATIONS_WRITE)]

_PROBLEM: dict[str, Any] = {"application/problem+json": {}}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "Unknown, or another client's", "content": _PROBLEM},
    409: {"description": "Not in a status that allows it (the message says why)", "content": _PROBLEM},
}
_MAX_BASE64 = (APPEAL_DOCUMENT_MAX_BYTES + 2) // 3 * 4


class DocumentIn(BaseModel):
    content_type: PlainText = Field(
        max_length=APPEAL_DOCUMENT_TYPE_LENGTH, pattern=r"^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+$"
    )
    title: PlainText | None = Field(default=None, max_length=APPEAL_DOCUMENT_TITLE_LENGTH)
    data: str = Field(
        min_length=1, max_length=_MAX_BASE64, description=f"Base64, at most {APPEAL_DOCUMENT_MAX_BYTES} bytes decoded."
    )

    @field_validator("data")
    @classmethod
    def _base64(cls, value: str) -> str:
        try:
            decoded = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("data is not valid base64") from None
        if len(decoded) > APPEAL_DOCUMENT_MAX_BYTES:
            raise ValueError(f"a document may hold at most {APPEAL_DOCUMENT_MAX_BYTES} bytes")
        return value

    def document(self) -> AppealDocument:
        return AppealDocument(self.content_type, base64.b64decode(self.data), self.title)


class AppealIn(BaseModel):
    reason: PlainText = Field(min_length=1, max_length=APPEAL_REASON_LENGTH, description="Why the decision is wrong.")
    expedited: bool = Field(default=False, description="Ask for the payer's expedited appeal timeframe.")
    documents: list[DocumentIn] = Field(default_factory=list, max_length=APPEAL_DOCUMENTS_MAX)


class AppealDecisionIn(BaseModel):
    outcome: Literal["approved", "denied"]
    note: PlainText | None = Field(default=None, max_length=APPEAL_REASON_LENGTH)


class PeerToPeerIn(BaseModel):
    state: Literal["requested", "held"]
    note: PlainText | None = Field(default=None, max_length=APPEAL_REASON_LENGTH)


class AppealResult(BaseModel):
    appeal: AppealView | None = Field(description="The appeal this call lodged or decided (null: none open).")
    authorization: AuthorizationDetail


async def _result(
    runtime: RuntimeDep, authorization_id: uuid.UUID, principal: Principal, appeal_id: uuid.UUID | None
) -> AppealResult:
    shown = await operations.show(runtime, authorization_id, client_id=principal.scope_client_id)
    found = [a for a in shown.appeals if a.id == appeal_id]
    return AppealResult(appeal=found[0] if found else None, authorization=shown)


@router.post(
    "/{authorization_id}/appeal",
    summary="Appeal a denial, partial approval or modification (409 for any other status)",
    status_code=201,
    responses=_RESPONSES,
)
async def appeal_create(
    authorization_id: uuid.UUID, body: AppealIn, runtime: RuntimeDep, principal: WritePrincipal, audit: AuditDep
) -> AppealResult:
    audit.record("authorization.appeal", "Authorization", [authorization_id])
    request = appeals.AppealRequest(
        reason=body.reason, expedited=body.expedited, documents=tuple(d.document() for d in body.documents)
    )
    appeal_id = await appeals.submit_appeal(
        runtime, authorization_id, client_id=principal.scope_client_id, request=request
    )
    return await _result(runtime, authorization_id, principal, appeal_id)


@router.post(
    "/{authorization_id}/appeal/decision",
    summary="Record the payer's decision on the open appeal (one that went by another channel)",
    responses=_RESPONSES,
)
async def appeal_decision(
    authorization_id: uuid.UUID,
    body: AppealDecisionIn,
    runtime: RuntimeDep,
    principal: WritePrincipal,
    audit: AuditDep,
) -> AppealResult:
    audit.record("authorization.appeal-decision", "Authorization", [authorization_id])
    appeal_id = await appeals.decide(
        runtime,
        authorization_id,
        client_id=principal.scope_client_id,
        approved=body.outcome == "approved",
        note=body.note,
    )
    return await _result(runtime, authorization_id, principal, appeal_id)


@router.post(
    "/{authorization_id}/peer-to-peer",
    summary="Record a peer-to-peer review the payer requested, or one that was held",
    responses=_RESPONSES,
)
async def peer_to_peer(
    authorization_id: uuid.UUID, body: PeerToPeerIn, runtime: RuntimeDep, principal: WritePrincipal, audit: AuditDep
) -> AppealResult:
    audit.record("authorization.peer-to-peer", "Authorization", [authorization_id])
    appeal_id = await appeals.peer_to_peer(
        runtime, authorization_id, client_id=principal.scope_client_id, held=body.state == "held", note=body.note
    )
    return await _result(runtime, authorization_id, principal, appeal_id)
