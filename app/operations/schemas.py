"""What the operations API shows of an authorization: summaries, items, clocks, links, timeline.

Ids, codes, dates and counts only: names and birth dates are never stored, and the member id
the client sent is a filter, never echoed back.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from app.authorizations import EXCHANGE_KEY
from app.domain.clocks import is_overdue
from app.domain.codes import AuthorizationKind, AuthorizationStatus, Priority, ReviewAction
from app.operations.appeal_views import AppealView
from app.operations.queries import SummaryRow
from app.store.models import Attachment, AuthorizationItem, Event


class Clocks(BaseModel):
    received_at: datetime
    due_at: datetime | None = Field(description="When the payer's decision is due (CMS-0057-F windows).")
    overdue: bool = Field(description="Still undecided after due_at.")
    decided_at: datetime | None
    expires_at: datetime | None = Field(description="End of the approval's validity.")


class Links(BaseModel):
    detail: str
    claim_response: str = Field(description="The FHIR ClaimResponse of this authorization.")
    replaces: str | None = Field(description="The earlier version this one updated.")
    replaced_by: str | None = Field(description="The later version that updated this one.")


class AuthorizationSummary(BaseModel):
    id: uuid.UUID
    status: AuthorizationStatus
    kind: AuthorizationKind
    priority: Priority
    payer_id: str
    clocks: Clocks
    updated_at: datetime
    version: int = Field(description="Bumped on every change; the ETag follows it.")
    item_count: int
    current: bool = Field(description="False once an update replaced this version.")
    links: Links


class Period(BaseModel):
    start: date | None
    end: date | None


class ItemView(BaseModel):
    sequence: int
    product_system: str | None
    product_code: str
    quantity: float | None
    serviced: Period | None
    cancelled: bool
    decision_code: ReviewAction | None = Field(description="X12 306 action: A1, A2, A3, A4, A6, C, CT, NA.")
    reason_codes: list[str] = Field(description='"system|code" of each reason (X12 886 for denials).')
    reason_text: str | None
    authorization_number: str | None
    authorized_quantity: float | None
    authorized_period: Period | None
    authorized_code: str | None = Field(description="A6: the service authorized instead.")
    units_used: float | None = Field(default=None, description="Units or visits used so far (usage reports).")


class EventView(BaseModel):
    type: str
    at: datetime
    from_status: AuthorizationStatus | None
    to_status: AuthorizationStatus | None
    detail: dict[str, Any] | None


class AuthorizationDetail(AuthorizationSummary):
    preauth_ref: str | None
    items: list[ItemView]
    timeline: list[EventView] = Field(description="Every event, oldest first.")
    appeals: list[AppealView] = Field(default_factory=list, description="Appeals of the decision, oldest first.")
    information_request: InformationRequestView | None = Field(
        default=None, description="What the payer asked for last (PAS communicationRequest / CDex Task), if it did."
    )


class InformationRequestView(BaseModel):
    open: bool = Field(description="True while the status is info-requested (the documents have not been sent).")
    due_at: datetime | None = Field(description="When the payer wants the documents by (null once settled).")
    overdue: bool = Field(description="Still open after due_at.")
    codes: list[str] = Field(description='"system|code" of each document the payer asked for (e.g. LOINC).')
    text: str | None
    questionnaire: str | None = Field(description="Canonical URL of a questionnaire to answer, when asked.")


def information_request_of(
    status: AuthorizationStatus, due_at: datetime | None, asked: dict[str, Any] | None, *, now: datetime
) -> InformationRequestView | None:
    if asked is None:
        return None
    is_open = status is AuthorizationStatus.INFO_REQUESTED
    return InformationRequestView(
        open=is_open,
        due_at=due_at if is_open else None,
        overdue=is_open and due_at is not None and now >= due_at,
        codes=[f"{c.get('system') or ''}|{c.get('code')}" for c in asked.get("codes") or []],
        text=asked.get("text"),
        questionnaire=asked.get("questionnaire"),
    )


class AuthorizationPage(BaseModel):
    authorizations: list[AuthorizationSummary]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on the last page.")


class FollowUpView(BaseModel):
    job_id: int
    action: str = Field(description="submit, inquire or cancel: what the worker will ask the payer.")
    run_at: datetime


class RefreshResult(BaseModel):
    authorization: AuthorizationSummary
    follow_up: FollowUpView


class CancelResult(BaseModel):
    payer_notified: bool = Field(description="False: the payer was unreachable; a follow-up will tell it.")
    follow_up: FollowUpView | None
    authorization: AuthorizationDetail


def etag(authorization_id: uuid.UUID, version: int, *, replaced: bool) -> str:
    # Replacing a version does not bump it, but does change what its detail shows.
    return f'"{authorization_id.hex}-{version}{"-r" if replaced else ""}"'


def _href(base_url: str, authorization_id: uuid.UUID | None) -> str | None:
    return None if authorization_id is None else f"{base_url}/authorizations/{authorization_id}"


def summary_of(row: SummaryRow, *, now: datetime, base_url: str) -> AuthorizationSummary:
    status = row.status
    return AuthorizationSummary(
        id=row.id,
        status=status,
        kind=row.kind,
        priority=row.priority,
        payer_id=row.payer_id,
        clocks=Clocks(
            received_at=row.received_at,
            due_at=row.due_at,
            overdue=is_overdue(row.due_at, status, now),
            decided_at=row.decided_at,
            expires_at=row.expires_at,
        ),
        updated_at=row.updated_at,
        version=row.version,
        item_count=row.item_count,
        current=row.replaced_by_id is None,
        links=Links(
            detail=f"{base_url}/authorizations/{row.id}",
            claim_response=f"{base_url}/fhir/ClaimResponse/{row.id}",
            replaces=_href(base_url, row.replaces_id),
            replaced_by=_href(base_url, row.replaced_by_id),
        ),
    )


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _period(start: date | None, end: date | None) -> Period | None:
    return None if start is None and end is None else Period(start=start, end=end)


def item_of(item: AuthorizationItem) -> ItemView:
    return ItemView(
        sequence=item.sequence,
        product_system=item.product_system,
        product_code=item.product_code,
        quantity=_number(item.quantity),
        serviced=_period(item.serviced_start, item.serviced_end),
        cancelled=item.cancelled,
        decision_code=ReviewAction(item.decision_code) if item.decision_code else None,
        reason_codes=list(item.reason_codes or ()),
        reason_text=item.reason_text,
        authorization_number=item.authorization_number,
        authorized_quantity=_number(item.authorized_quantity),
        authorized_period=_period(item.authorized_start, item.authorized_end),
        authorized_code=item.authorized_code,
        units_used=_number(item.units_used),
    )


def event_of(event: Event) -> EventView:
    return EventView(
        type=event.type,
        at=event.at,
        from_status=event.from_status,
        to_status=event.to_status,
        detail={k: v for k, v in event.detail.items() if k != EXCHANGE_KEY} if event.detail else event.detail,
    )


class AttachmentView(BaseModel):
    """One stored document (never its content: it may hold PHI)."""

    id: int
    resource_type: str = Field(description="DocumentReference, QuestionnaireResponse, ...")
    content_type: str
    sha256: str = Field(description="Of the document's canonical JSON; the same document is stored once.")
    size: int = Field(description="Bytes.")
    received_at: datetime
    forwarded_at: datetime | None = Field(description="When it went to the payer (null: not yet).")


class AttachmentList(BaseModel):
    authorization_id: uuid.UUID
    attachments: list[AttachmentView]


def attachment_of(row: Attachment) -> AttachmentView:
    return AttachmentView(
        id=row.id,
        resource_type=row.resource_type,
        content_type=row.content_type,
        sha256=row.sha256,
        size=row.size,
        received_at=row.received_at,
        forwarded_at=row.forwarded_at,
    )
