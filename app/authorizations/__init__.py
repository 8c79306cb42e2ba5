"""The authorization lifecycle room: use cases on the Authorization aggregate, and its job handlers.

The core (this package's modules) stores requests, asks payers, records their answers through the
aggregate and keeps the clocks; the sub-rooms `appeals`, `attachments`, `usage` and `carry_over` are
lifecycle features built on the core. The edges (api, cli, console) and the rooms above (operations,
requirements) call what this face exports; the worker takes `handlers(deps)`.

This face is also where the core meets its sub-rooms, since the core never imports them:
`submit_prior_auth` decides once, from the parsed request, whether a `$submit` is an appeal (the
appeals sub-room's) or a request, update or cancel (the core's), and hands the core the attachments
sub-room's documents.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.authorizations import appeals, attachments, carry_over, usage
from app.authorizations.cancellation import Cancelled, cancel
from app.authorizations.deps import (
    AttachmentDeps,
    Clocked,
    LookupDeps,
    PayerCallDeps,
    RequirementsDeps,
    RulesInForce,
    Sessions,
    SubmitDeps,
)
from app.authorizations.errors import not_found
from app.authorizations.exchanges import EXCHANGE_KEY
from app.authorizations.follow_up import follow_up_now
from app.authorizations.inquiry import claim_response, inquire, search_claim_responses
from app.authorizations.precheck import SubmissionCheck, check_submission
from app.authorizations.precheck import active_authorization_for as _active_authorization_for
from app.authorizations.queries import ClaimResponseSearch, TokenCriterion
from app.authorizations.replay import SubmitResult
from app.authorizations.repository import AuthorizationRepository
from app.authorizations.scheduling import FOLLOW_UP, FollowUpAction, action_of, queued
from app.authorizations.submit import submit_prior_auth as _submit
from app.authorizations.tasks import handlers as _core_handlers
from app.domain.model import Period
from app.fhir.submit import ParsedSubmission
from app.jobs.contract import Handler
from app.security.audit import AuditEntry
from app.security.principal import Principal
from app.store.models import Authorization

__all__ = [
    "EXCHANGE_KEY",
    "FOLLOW_UP",
    "AttachmentDeps",
    "Cancelled",
    "ClaimResponseSearch",
    "Clocked",
    "FollowUpAction",
    "LookupDeps",
    "PayerCallDeps",
    "RequirementsDeps",
    "RulesInForce",
    "Sessions",
    "SubmissionCheck",
    "SubmitDeps",
    "SubmitResult",
    "TokenCriterion",
    "action_of",
    "active_authorization_for",
    "appeals",
    "attachments",
    "cancel",
    "carry_over",
    "check_submission",
    "claim_response",
    "follow_up_now",
    "handlers",
    "inquire",
    "not_found",
    "queued",
    "search_claim_responses",
    "submit_prior_auth",
    "usage",
]


async def submit_prior_auth(
    deps: SubmitDeps, principal: Principal, parsed: ParsedSubmission, audit: AuditEntry | None = None
) -> SubmitResult:
    """`Claim/$submit`: an appeal of a decided request (a PASClaimUpdate with certificationType 1 or 2) goes to
    the appeals sub-room and creates no authorization; anything else is stored and sent by the core."""
    if appeals.is_appeal(parsed.request):
        appealed = await appeals.appeal_by_update(deps, principal, parsed)
        return SubmitResult(
            appealed.authorization_id,
            200,
            appealed.body,
            appealed.payer_id,
            appealed.status,
            replayed=appealed.replayed,
        )
    return await _submit(deps, principal, parsed, audit, documents=attachments.SENT_DOCUMENTS)


async def active_authorization_for(
    session: AsyncSession, client_id: str, member: str, code: str, served: Period | None, *, now: datetime
) -> Authorization | None:
    """A current, unexpired authorization of the client granting `code` to `member` on dates overlapping `served`
    (CRD answers "satisfied" with it)."""
    return await _active_authorization_for(AuthorizationRepository(session, client_id), member, code, served, now=now)


def handlers(deps: SubmitDeps) -> dict[str, Handler]:
    """Every job kind of the lifecycle, for the worker: the core's, then each sub-room's."""
    return {
        **_core_handlers(deps, attachments.SENT_DOCUMENTS),
        **appeals.handlers(deps),
        **attachments.handlers(deps),
    }
