"""Recording what happened to an authorization: status, clocks, timeline, and the response document."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.clocks import expiry
from app.domain.codes import AuthorizationStatus, ReviewAction
from app.domain.lifecycle import check_transition, roll_up
from app.domain.model import PayerReply, Period
from app.errors import Issue
from app.fhir.outcome import operation_outcome
from app.fhir.response import render_response_bundle
from app.fhir.submit import ParsedSubmission
from app.notifications import enqueue_event, event_type_for
from app.payers import PayerRejected
from app.services import followups
from app.services.clock_jobs import DEFAULT_EXPIRING_LEAD, plan_expiry
from app.services.items import decisions_of, pended
from app.store.authorizations import AuthorizationRepository
from app.store.models import Authorization

_APPROVED = frozenset(
    {AuthorizationStatus.APPROVED, AuthorizationStatus.PARTIALLY_APPROVED, AuthorizationStatus.MODIFIED}
)


def current_status(authorization: Authorization) -> AuthorizationStatus:
    actions = [
        ReviewAction(item.decision_code) if item.decision_code else ReviewAction.PENDED for item in authorization.items
    ]
    return roll_up(actions)


def _authorized_periods(authorization: Authorization) -> list[Period]:
    return [
        Period(item.authorized_start, item.authorized_end)
        for item in authorization.items
        if item.authorized_end is not None and not item.cancelled
    ]


def settle_status(
    repository: AuthorizationRepository,
    authorization: Authorization,
    *,
    now: datetime,
    event: str,
    reply: PayerReply | None = None,
    approval_validity: timedelta,
    previous: AuthorizationStatus | None = None,
    detail: dict[str, Any] | None = None,
    expiring_lead: timedelta = DEFAULT_EXPIRING_LEAD,
) -> AuthorizationStatus:
    """Roll the items up into the status (validated transition), set clocks, record the event."""
    before = previous or AuthorizationStatus(authorization.status)
    after = current_status(authorization)
    check_transition(before, after)
    authorization.status = after.value
    if reply is not None:
        authorization.payer_reference = reply.payer_reference or authorization.payer_reference
        authorization.preauth_ref = reply.preauth_ref or authorization.preauth_ref
    if not after.is_open:
        authorization.decided_at = authorization.decided_at if before == after else now
    if after in _APPROVED:
        periods = _authorized_periods(authorization)
        if not periods:
            start = authorization.received_at.date()
            periods = [Period(start, start + approval_validity)]
        expires_at = expiry(periods)
        if expires_at != authorization.expires_at:
            authorization.expires_at = expires_at
            plan_expiry(repository.session, authorization, now=now, lead=expiring_lead)
    authorization.updated_at = now
    authorization.version = (authorization.version or 0) + 1
    repository.record_event(authorization, event, now, from_status=before.value, to_status=after.value, detail=detail)
    if after != before:
        enqueue_event(repository.session, authorization, event_type_for(after.value), now=now)
    return after


def _preauth_period(authorization: Authorization, reply: PayerReply | None) -> Period | None:
    if reply is not None and reply.preauth_period is not None:
        return reply.preauth_period
    periods = _authorized_periods(authorization)
    if not periods:
        return None
    starts: list[date] = [p.start for p in periods if p.start is not None]
    ends: list[date] = [p.end for p in periods if p.end is not None]
    return Period(min(starts) if starts else None, max(ends) if ends else None)


def render_document(
    authorization: Authorization,
    parsed: ParsedSubmission,
    *,
    reply: PayerReply | None = None,
    warnings: list[Issue] | None = None,
    base_url: str = "",
) -> bytes:
    """The PAS response Bundle for the authorization's current state, stored as the response document."""
    decisions = {**pended(authorization.items), **decisions_of(authorization.items)}
    bundle = render_response_bundle(
        request_bundle=parsed.bundle,
        request=parsed.request,
        claim_response_id=str(authorization.id),
        bundle_identifier=f"{authorization.id}-{authorization.version}",
        created=authorization.updated_at,
        decisions=decisions,
        preauth_ref=authorization.preauth_ref,
        preauth_period=_preauth_period(authorization, reply),
        disposition=reply.disposition if reply is not None else None,
        warnings=[*parsed.warnings, *(warnings or [])],
        full_url=f"{base_url}/fhir/ClaimResponse/{authorization.id}" if base_url else None,
        version_id=str(authorization.version),
    )
    return orjson.dumps(bundle)


async def record_rejection(
    session: AsyncSession,
    repository: AuthorizationRepository,
    authorization: Authorization,
    rejection: PayerRejected,
    now: datetime,
) -> bytes:
    """The payer refused the request: status error, its issues as the stored OperationOutcome."""
    issues = list(rejection.issues) or [Issue(text="the payer rejected the request", code="processing")]
    body = orjson.dumps(operation_outcome(issues))
    repository.record_event(
        authorization,
        "payer-rejected",
        now,
        from_status=authorization.status,
        to_status=AuthorizationStatus.ERROR.value,
        detail={"issues": len(issues)},
    )
    authorization.status = AuthorizationStatus.ERROR.value
    authorization.updated_at = now
    authorization.version += 1
    authorization.response_document = body
    authorization.response_status = 422
    await followups.settle(session, authorization.id, now=now)
    enqueue_event(session, authorization, event_type_for(AuthorizationStatus.ERROR.value), now=now)
    return body
