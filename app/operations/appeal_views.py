"""What the operations API shows of an appeal: channel, reason, clocks, outcome, documents' metadata."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from app.domain.codes import AuthorizationStatus
from app.store.models import Appeal, AppealDocument


class AppealDocumentView(BaseModel):
    id: int
    content_type: str
    title: str | None
    size: int = Field(description="Bytes, decoded.")
    sha256: str = Field(description="Hex SHA-256 of the content.")


class AppealView(BaseModel):
    id: uuid.UUID
    channel: str = Field(description="pas-update (a PASClaimUpdate, certificationType 1 or 2) or operations.")
    expedited: bool
    reason: str | None
    appealed_status: AuthorizationStatus = Field(description="The decision that was appealed.")
    outcome: str | None = Field(description="approved or denied; null while the payer reviews the appeal.")
    submitted_at: datetime
    due_at: datetime = Field(description="The payer's appeal deadline (expedited or standard, per payer).")
    overdue: bool = Field(description="Still undecided after due_at.")
    decided_at: datetime | None
    payer_reference: str | None
    peer_to_peer: str | None = Field(description="requested or held, when the payer asked for a peer-to-peer review.")
    documents: list[AppealDocumentView]


def document_of(document: AppealDocument) -> AppealDocumentView:
    return AppealDocumentView(
        id=document.id,
        content_type=document.content_type,
        title=document.title,
        size=document.size,
        sha256=document.sha256,
    )


def appeal_of(appeal: Appeal, *, now: datetime) -> AppealView:
    return AppealView(
        id=appeal.id,
        channel=appeal.channel,
        expedited=appeal.expedited,
        reason=appeal.reason,
        appealed_status=appeal.appealed_status,
        outcome=appeal.outcome,
        submitted_at=appeal.submitted_at,
        due_at=appeal.due_at,
        overdue=appeal.outcome is None and now >= appeal.due_at,
        decided_at=appeal.decided_at,
        payer_reference=appeal.payer_reference,
        peer_to_peer=appeal.peer_to_peer,
        documents=[document_of(d) for d in appeal.documents],
    )
