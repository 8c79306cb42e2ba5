"""`Claim/$submit`: store first, ask the payer within the sync budget, record, answer.

The use case runs in two short transactions around the payer call, never one long one: a
payer that takes seconds must not hold database locks (SQLite has a single writer). The first
transaction stores the request together with a follow-up job (the outbox), so a process that
dies during the payer call loses nothing: the worker carries the request on.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from app.authorizations import scheduling
from app.authorizations.deps import SubmitDeps
from app.authorizations.documents import SentDocuments
from app.authorizations.exchanges import exchange_detail
from app.authorizations.items import items_for
from app.authorizations.payer_call import PayerOutcome, call_payer, fault_entry, next_follow_up
from app.authorizations.precheck import (
    SubmissionCheck,
    check_or_refuse,
    duplicates_among,
    exemptions_of,
    granted_query,
    program_notes,
    wants_duplicates,
)
from app.authorizations.recording import record, record_rejection, save, state_of
from app.authorizations.replay import SubmitResult, audited, fingerprint, replay
from app.authorizations.repository import AuthorizationRepository
from app.authorizations.repository.lookup import submission_lookup
from app.authorizations.repository.pending import insert_pending
from app.authorizations.routing import PayerChoice, choose_payer
from app.authorizations.scheduling import FollowUpAction
from app.authorizations.stored import normalized_form
from app.domain.authorization import received_change
from app.domain.codes import AuthorizationStatus
from app.domain.facts import BundleFacts
from app.domain.lifecycle import accepts_updates
from app.domain.model import Attachment, PayerReply
from app.errors import Conflict, Issue, Unprocessable
from app.fhir.attachments import supporting_documents
from app.fhir.submit import ParsedSubmission
from app.payers import PayerEntry, PayerRejected
from app.payers.contract import answers_in_process
from app.security.audit import AuditEntry
from app.security.principal import Principal
from app.store.database import writer_turn
from app.store.models import Authorization

SAFETY_MARGIN_SECONDS = 30.0


async def _prior_for_update(repository: AuthorizationRepository, parsed: ParsedSubmission) -> Authorization:
    """The current version of what an update (Claim.related) or a cancel-all names."""
    request = parsed.request
    if request.related_claim is not None:
        target, expression = request.related_claim, "Bundle.entry[0].resource.related[0].claim"
    else:  # a Claim-level cancel without `related` cancels the request with its own Claim identifier
        target, expression = request.claim_identifiers[0], "Bundle.entry[0].resource.identifier[0]"
    original = await repository.by_claim_identifier(target.key())
    if original is None:
        text = f"no authorization with Claim identifier {target.value} to update or cancel"
        raise Unprocessable(text, issues=[Issue(text=text, code="not-found", expression=expression)])
    prior = await repository.current(original)
    status = prior.status
    if not accepts_updates(status):
        text = f"the authorization is {status.value} and takes no updates; submit a new request instead"
        raise Unprocessable(text, issues=[Issue(text=text, code="business-rule", expression=expression)])
    return prior


def _new_authorization(
    deps: SubmitDeps,
    principal: Principal,
    parsed: ParsedSubmission,
    entry: PayerEntry,
    prior: Authorization | None,
    check: SubmissionCheck,
) -> Authorization:
    request = parsed.request
    now = deps.clock()
    claim_key = (
        request.claim_identifiers[0].key() if request.claim_identifiers else f"|{request.bundle_identifier.value}"
    )
    authorization = Authorization(
        id=uuid.uuid4(),
        client_id=principal.client_id,
        payer_id=entry.id,
        bundle_identifier=request.bundle_identifier.key(),
        claim_identifier=claim_key,
        patient_member_id=request.member_id.value if request.member_id else None,
        provider_identifier=request.provider[0].key() if request.provider else None,
        kind=request.kind,
        priority=request.priority,
        status=AuthorizationStatus.RECEIVED,
        replaces_id=prior.id if prior else None,
        extends_id=check.extends_id,
        payer_reference=prior.payer_reference if prior else None,
        preauth_ref=prior.preauth_ref if prior else None,
        received_at=now,
        due_at=check.assessment.decision_due(now, request.priority, entry.windows),
        created_at=now,
        updated_at=now,
        version=1,
        request_hash=fingerprint(parsed),
        request_document=parsed.bundle_bytes,
        request_form=normalized_form(parsed),
        response_status=200,
    )
    authorization.items = items_for(request, prior.items if prior else ())
    return authorization


@dataclass(frozen=True, slots=True)
class _Stored:
    """Stored and committed; the payer is to be asked outside any transaction."""

    authorization: Authorization
    check: SubmissionCheck
    entry: PayerEntry  # the payer to ask (a cancel of a routed request: the contractor that holds it)
    documents: tuple[Attachment, ...] = ()  # carried by an update for the payer


async def _store(
    deps: SubmitDeps,
    principal: Principal,
    parsed: ParsedSubmission,
    choice: PayerChoice,
    facts: BundleFacts,
    audit: AuditEntry | None,
    sent: SentDocuments,
) -> SubmitResult | _Stored:
    """Idempotency, update checks, coverage rules and pre-submission checks, then the authorization and
    its first event. When the answer needs no I/O (the payer's rules settle every item, or the payer
    decides in-process) it is recorded in this same transaction: one commit. Otherwise a follow-up job
    is stored with it (the outbox) and the payer is asked after the commit."""
    request = parsed.request
    entry = choice.entry
    async with writer_turn(deps.engine), deps.sessions.begin() as session:
        repository = AuthorizationRepository(session, principal.client_id)
        changes_earlier = request.is_update or (request.cancels_all and bool(request.claim_identifiers))
        new_claim = request.claim_identifiers[0].key() if request.claim_identifiers and not changes_earlier else None
        now = deps.clock()
        lookup = await submission_lookup(
            repository,
            request.bundle_identifier.key(),
            new_claim,
            granted_query(request, now=now) if wants_duplicates(request) else None,
        )
        if lookup.replay_of is not None:
            seen = await repository.get(lookup.replay_of, with_items=False)
            assert seen is not None
            return audited(session, audit, await replay(repository, seen, parsed, deps.settings.base_url))
        prior = None
        if changes_earlier:
            prior = await _prior_for_update(repository, parsed)
            if request.cancels_all and prior.payer_id != entry.id and prior.payer_id in deps.payers:
                entry = deps.payers.get(prior.payer_id)  # a cancel has no items to route: it follows the request
        elif lookup.claim_used_by is not None:
            text = (
                f"Claim identifier {request.claim_identifiers[0].value} was already submitted; "
                "send a PASClaimUpdate (Claim.related) to change it"
            )
            raise Conflict(
                text, issues=[Issue(text=text, code="duplicate", expression="Bundle.entry[0].resource.identifier")]
            )
        check = await check_or_refuse(
            session,
            principal.client_id,
            deps.coverage.current.for_payer(choice.rules_payer),
            request,
            facts,
            now=now,
            programs=choice.programs,
            duplicates=duplicates_among(request, lookup.granted) if wants_duplicates(request) else None,
        )
        authorization = _new_authorization(deps, principal, parsed, entry, prior, check)
        if request.cancels_all:
            for item in authorization.items:
                item.cancelled = True
        repository.add(authorization)
        repository.add_patient_identifiers(authorization, request.patient_identifiers, request.member_id)
        if prior is not None:
            replaced = state_of(prior)
            change = replaced.replace(now=authorization.received_at, by=str(authorization.id))
            save(repository, prior, replaced, change, items=False)
            prior.replaced_by_id = authorization.id
            await scheduling.settle(session, prior.id, now=authorization.received_at)
        detail = {
            "kind": authorization.kind,
            "priority": authorization.priority,
            "payer": entry.id,
            **({"replaces": str(prior.id)} if prior else {}),
            **choice.detail(),
            **({"exemptions": exempt} if (exempt := exemptions_of(check)) else {}),
            **await _coverage_links(repository, authorization, parsed, check),
        }
        documents = supporting_documents(parsed.bundle, parsed.index) if prior is not None else ()
        if documents:  # a PASClaimUpdate that carries the documents a payer asked for
            detail["attachments"] = len(documents)
        received = received_change(now=authorization.received_at, detail=detail)
        save(repository, authorization, state_of(authorization, items=False), received, items=False)
        settled = not request.cancels_all and check.assessment.settles(request)
        result: SubmitResult | _Stored
        if settled or answers_in_process(entry.adapter):
            outcome = None if settled else await call_payer(deps, entry, authorization, parsed, documents)
            result = await _record_outcome(
                deps, repository, entry, authorization, parsed, outcome, check, follow_up_queued=False
            )
        else:
            budget = deps.settings.payer_sync_budget_seconds + SAFETY_MARGIN_SECONDS
            # If this process dies during the payer call, the payer may have the request: ask before resending.
            action = FollowUpAction.CANCEL if request.cancels_all else FollowUpAction.CONFIRM
            scheduling.plan(
                session,
                authorization,
                now=authorization.received_at,
                run_at=authorization.received_at + timedelta(seconds=budget),
                action=action,
            )
            result = _Stored(authorization, check, entry, documents)
        ids_audited = list(audit.resource_ids) if audit is not None else []
        if isinstance(result, SubmitResult):
            result = audited(session, audit, result)  # its row goes in the same write
        try:
            await insert_pending(session)  # Core multi-row INSERTs, not the ORM's flush (the hot path)
        except IntegrityError:
            await session.rollback()
            if audit is not None:
                audit.resource_ids[:] = ids_audited  # the middleware audits the replay instead
            async with deps.sessions() as again:
                other = AuthorizationRepository(again, principal.client_id)
                raced = await other.by_bundle_identifier(request.bundle_identifier.key())
                if raced is None:
                    raise
                return await replay(other, raced, parsed, deps.settings.base_url)
        if documents:
            await sent.keep(session, authorization, documents, now=authorization.received_at)
        return result


async def _coverage_links(
    repository: AuthorizationRepository,
    authorization: Authorization,
    parsed: ParsedSubmission,
    check: SubmissionCheck,
) -> dict[str, object]:
    """Link CRD coverage assertions and the extended authorization; the details for the "received" event."""
    detail: dict[str, object] = {}
    linked = await repository.link_assertions(
        authorization.id,
        authorization.received_at,
        assertion_ids=parsed.request.coverage_assertion_ids,
        satisfied_pa_ids=check.facts.satisfied_pa_ids,
    )
    if linked:
        detail["coverage_assertions"] = linked
    if check.assessment.rules_version:
        detail["coverage_rules"] = check.assessment.rules_version
    if check.extends_id is not None:
        usage = [line.as_dict() for line in check.usage]
        detail["extends"], detail["units"] = str(check.extends_id), usage
        extended = await repository.get(check.extends_id, with_items=False)
        if extended is not None:
            repository.record_event(
                extended,
                "extension-requested",
                authorization.received_at,
                detail={"by": str(authorization.id), "units": usage},
            )
    return detail


async def _record(
    deps: SubmitDeps,
    principal: Principal,
    entry: PayerEntry,
    authorization_id: uuid.UUID,
    parsed: ParsedSubmission,
    outcome: PayerOutcome,
    check: SubmissionCheck,
    audit: AuditEntry | None,
) -> SubmitResult:
    """Transaction 2 (after a payer call outside any transaction): the answer, or its absence, recorded."""
    async with writer_turn(deps.engine), deps.sessions.begin() as session:
        repository = AuthorizationRepository(session, principal.client_id)
        authorization = await repository.get_for_update(authorization_id)
        assert authorization is not None
        result = await _record_outcome(
            deps, repository, entry, authorization, parsed, outcome, check, follow_up_queued=True
        )
        return audited(session, audit, result)


async def _record_outcome(
    deps: SubmitDeps,
    repository: AuthorizationRepository,
    entry: PayerEntry,
    authorization: Authorization,
    parsed: ParsedSubmission,
    outcome: PayerOutcome,
    check: SubmissionCheck,
    *,
    follow_up_queued: bool,
) -> SubmitResult:
    """The payer's answer (or its absence) through the aggregate, the response stored, the follow-up planned."""
    session = repository.session
    now = deps.clock()
    if isinstance(outcome, PayerRejected):
        body = await record_rejection(repository, authorization, outcome, now=now)
        return SubmitResult(authorization.id, 422, body, authorization.payer_id, authorization.status)
    reply = outcome if isinstance(outcome, PayerReply) else None
    ruled = {} if parsed.request.cancels_all else check.assessment.rule_decisions()
    if reply is not None:
        event, detail = "payer-answered", {"payer_reference": reply.payer_reference, **exchange_detail(reply)}
    elif ruled and check.assessment.settles(parsed.request):
        event, detail = "coverage-rules-decided", {"rules": check.assessment.rules_version}
    else:
        event, detail = fault_entry(deps, None if isinstance(outcome, PayerReply) else outcome)
    state = state_of(authorization)
    # Decisions of the payer's published rules take precedence over what the payer's system answers.
    change = state.answer(
        {**({d.sequence: d for d in reply.decisions} if reply else {}), **ruled},
        now=now,
        timeline_type=event,
        approval_validity=check.assessment.approval_validity(entry.approval_validity),
        reply=reply,
        detail=detail,
    )
    warnings = [finding.issue("warning") for finding in check.assessment.submit_findings()]
    warnings += program_notes(parsed.request, check)
    body = record(
        repository,
        authorization,
        state,
        change,
        parsed,
        reply=reply,
        warnings=warnings,
        base_url=deps.settings.base_url,
    )
    status = change.after
    if status.is_open or (parsed.request.cancels_all and reply is None):  # the payer must still hear of a cancel
        action, retry_after = next_follow_up(deps, parsed, outcome)
        run_at = scheduling.follow_up_at(now, retry_after)
        if follow_up_queued:
            await scheduling.replan(session, authorization.id, now=now, run_at=run_at, action=action)
        else:
            scheduling.plan(session, authorization, now=now, run_at=run_at, action=action)
        if status.is_open:
            scheduling.plan_overdue_check(session, authorization, now=now)
    elif follow_up_queued:
        await scheduling.settle(session, authorization.id, now=now)
    return SubmitResult(authorization.id, 200, body, authorization.payer_id, status)


async def submit_prior_auth(
    deps: SubmitDeps,
    principal: Principal,
    parsed: ParsedSubmission,
    audit: AuditEntry | None = None,
    *,
    documents: SentDocuments,
) -> SubmitResult:
    """Store, ask the payer (within the sync budget), record, and return the PAS response.

    A new request, an update (PASClaimUpdate) or a cancel; an appeal sent as an update is the appeals
    sub-room's (the room's face decides which, once, from the parsed request). `documents` keeps what an
    update carries for the payer. `audit`, when given, is stored in the transaction that stores the answer
    (and marked `stored` once that committed); a refusal or failure leaves it to the audit middleware."""
    facts = parsed.facts()
    choice = choose_payer(deps, parsed.request, facts)
    stored = await _store(deps, principal, parsed, choice, facts, audit, documents)
    if isinstance(stored, _Stored):
        outcome = await call_payer(deps, stored.entry, stored.authorization, parsed, stored.documents)
        stored = await _record(
            deps, principal, stored.entry, stored.authorization.id, parsed, outcome, stored.check, audit
        )
    if audit is not None and stored.audited:
        audit.stored = True  # the transaction committed
    return stored
