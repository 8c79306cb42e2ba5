"""Recording what happened to an authorization: the one place a domain `Change` reaches the tables.

The aggregate (`app.domain.authorization`) decides; this module loads it from a row, writes the
result back (status, clocks, version, item decisions), adds the timeline entries and the
notification fan-out jobs the change implies, plans the expiry clock events, and renders the
response document. Every use case that changes an authorization (submit, follow-up, cancel,
payer rejection, clock events) goes through `record` or `save`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import orjson

from app.authorizations import scheduling
from app.authorizations.items import apply_decision, decision_of
from app.authorizations.repository import AuthorizationRepository
from app.authorizations.scheduling import DEFAULT_EXPIRING_LEAD, plan_expiry, plan_information_due
from app.domain import authorization as aggregate
from app.domain.codes import AuthorizationStatus
from app.domain.model import Coding, InformationRequest, PayerReply, Period
from app.errors import Issue
from app.fhir.outcome import operation_outcome
from app.fhir.response import render_response_bundle
from app.fhir.submit import ParsedSubmission
from app.notifications import enqueue_event
from app.payers import PayerRejected
from app.store.models import Authorization, AuthorizationItem


def state_of(row: Authorization, *, items: bool = True) -> aggregate.Authorization:
    """The aggregate of a stored authorization (its items must be loaded, unless `items=False` for the
    events that do not look at them: clock events, notes)."""
    return aggregate.Authorization(
        status=row.status,
        items=[_item_of(item) for item in row.items] if items else [],
        received_at=row.received_at,
        updated_at=row.updated_at,
        version=row.version,
        due_at=row.due_at,
        decided_at=row.decided_at,
        expires_at=row.expires_at,
        payer_reference=row.payer_reference,
        preauth_ref=row.preauth_ref,
        replaced=row.replaced_by_id is not None,
        info_due_at=row.info_due_at,
    )


def state_without_items(row: Authorization) -> aggregate.Authorization:
    return state_of(row, items=False)


def _item_of(item: AuthorizationItem) -> aggregate.Item:
    serviced = Period(item.serviced_start, item.serviced_end) if item.serviced_start or item.serviced_end else None
    return aggregate.Item(
        sequence=item.sequence,
        service=Coding(item.product_system, item.product_code),
        quantity=item.quantity,
        serviced=serviced,
        cancelled=item.cancelled,
        decision=decision_of(item),
        units_used=item.units_used or Decimal(0),
    )


def save(
    repository: AuthorizationRepository,
    row: Authorization,
    state: aggregate.Authorization,
    change: aggregate.Change,
    *,
    items: bool = True,
    expiring_lead: timedelta = DEFAULT_EXPIRING_LEAD,
) -> None:
    """Write the aggregate back to its row, then the change's timeline, notifications and clock events."""
    row.status = state.status
    row.version = state.version
    row.updated_at = state.updated_at
    row.decided_at = state.decided_at
    row.expires_at = state.expires_at
    row.payer_reference = state.payer_reference
    row.preauth_ref = state.preauth_ref
    if items:
        by_sequence = {item.sequence: item for item in state.items}
        for item_row in row.items:
            item = by_sequence[item_row.sequence]
            item_row.cancelled = item.cancelled
            if item.units_used != (item_row.units_used or Decimal(0)):
                item_row.units_used = item.units_used
            if item.decision is not None and item.decision != decision_of(item_row):
                apply_decision(item_row, item.decision)
    for entry in change.timeline:
        repository.record_event(
            row,
            entry.type,
            entry.at,
            from_status=entry.from_status,
            to_status=entry.to_status,
            detail=entry.detail,
        )
    for event_type in change.notifications:
        enqueue_event(repository.session, row, event_type, now=state.updated_at)
    if change.expiry_moved:
        plan_expiry(repository.session, row, now=state.updated_at, lead=expiring_lead)
    _save_information_request(repository, row, state, change)


def _save_information_request(
    repository: AuthorizationRepository, row: Authorization, state: aggregate.Authorization, change: aggregate.Change
) -> None:
    """An open information request's due time and what it asks for; cleared once the status leaves it."""
    row.info_due_at = state.info_due_at
    if state.info_request is not None:
        asked = state.info_request
        row.info_request = {
            "codes": [{"system": c.system, "code": c.code, "display": c.display} for c in asked.codes],
            "text": asked.text,
            "questionnaire": asked.questionnaire,
            "payer_reference": asked.payer_reference,
            "due_at": asked.due_at.isoformat() if asked.due_at else None,
        }
    if change.info_due_moved:
        plan_information_due(repository.session, row, now=state.updated_at)


def render_document(
    row: Authorization,
    state: aggregate.Authorization,
    parsed: ParsedSubmission,
    *,
    reply: PayerReply | None = None,
    warnings: list[Issue] | None = None,
    base_url: str = "",
) -> bytes:
    """The PAS response Bundle for the authorization's current state, stored as the response document."""
    bundle = render_response_bundle(
        request_bundle=parsed.bundle,
        request=parsed.request,
        claim_response_id=str(row.id),
        bundle_identifier=f"{row.id}-{state.version}",
        created=state.updated_at,
        decisions=state.decisions(),
        preauth_ref=state.preauth_ref,
        preauth_period=reply.preauth_period
        if reply is not None and reply.preauth_period is not None
        else state.preauth_period(),
        disposition=reply.disposition if reply is not None else None,
        warnings=[*parsed.warnings, *(warnings or [])],
        full_url=f"{base_url}/fhir/ClaimResponse/{row.id}" if base_url else None,
        version_id=str(state.version),
        information_request=_open_information_request(row, state),
        request_index=parsed.index,
    )
    return orjson.dumps(bundle)


def _open_information_request(row: Authorization, state: aggregate.Authorization) -> InformationRequest | None:
    """What the payer asks for while the status is info-requested (from this answer, else as stored)."""
    if state.status is not AuthorizationStatus.INFO_REQUESTED:
        return None
    if state.info_request is not None:
        return state.info_request
    asked = row.info_request or {}
    return InformationRequest(
        codes=tuple(Coding(c.get("system"), c["code"], c.get("display")) for c in asked.get("codes") or []),
        text=asked.get("text"),
        due_at=state.info_due_at,
        questionnaire=asked.get("questionnaire"),
    )


def record(
    repository: AuthorizationRepository,
    row: Authorization,
    state: aggregate.Authorization,
    change: aggregate.Change,
    parsed: ParsedSubmission,
    *,
    reply: PayerReply | None = None,
    warnings: list[Issue] | None = None,
    base_url: str = "",
) -> bytes:
    """Save a change that the client sees (an answer, a cancel) and store the response it gets now."""
    save(repository, row, state, change)
    row.response_document = render_document(row, state, parsed, reply=reply, warnings=warnings, base_url=base_url)
    row.response_status = 200
    return row.response_document


async def record_rejection(
    repository: AuthorizationRepository, row: Authorization, rejection: PayerRejected, *, now: datetime
) -> bytes:
    """The payer refused the request: status error, its issues as the stored OperationOutcome."""
    issues = list(rejection.issues) or [Issue(text="the payer rejected the request", code="processing")]
    state = state_of(row)
    change = state.reject(now=now, detail={"issues": len(issues)})
    save(repository, row, state, change, items=False)
    row.response_document = orjson.dumps(operation_outcome(issues))
    row.response_status = 422
    await scheduling.settle(repository.session, row.id, now=now)
    return row.response_document
