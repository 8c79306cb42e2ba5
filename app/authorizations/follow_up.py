"""The worker side of a pended authorization: ask the payer again until a final decision.

Runs as the `authorization.follow_up` job (operations may move it to now: `follow_up_now`). The
payer is called before anything is written, so no write transaction stays open during the call;
the answer is then recorded in the job's own unit of work, which commits together with the job's
completion (or its rescheduling).
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.authorizations import scheduling
from app.authorizations.deps import FollowUpDeps
from app.authorizations.documents import SentDocuments
from app.authorizations.exchanges import exchange_detail
from app.authorizations.recording import record, record_rejection, save, state_of, state_without_items
from app.authorizations.repository import AuthorizationRepository
from app.authorizations.scheduling import DEFAULT_INTERVAL, MINIMUM_INTERVAL, FollowUpAction
from app.authorizations.stored import stored_request
from app.domain.model import PayerReply
from app.errors import Conflict
from app.jobs.contract import Handler, JobContext, JobError, JobOutcome, Reschedule
from app.payers import PayerRejected, PayerSubmission
from app.store.models import Authorization, Job

log = logging.getLogger(__name__)


async def _tell_payer_of_cancel(
    deps: FollowUpDeps, job: JobContext, repository: AuthorizationRepository, authorization: Authorization
) -> JobOutcome | None:
    """A cancel recorded while the payer was unreachable: tell the payer now (cancel is idempotent)."""
    if authorization.payer_id not in deps.payers:
        raise JobError(f"payer {authorization.payer_id!r} is no longer configured", permanent=True)
    adapter = deps.payers.get(authorization.payer_id).adapter
    _parsed, reference = stored_request(authorization)
    state = state_without_items(authorization)
    try:
        reply = await adapter.cancel(reference)
    except PayerRejected as rejection:
        note = state.note("payer-cancel-rejected", now=job.now(), detail={"issues": len(rejection.issues)})
    else:
        note = state.note(
            "payer-notified-of-cancel",
            now=job.now(),
            detail={"payer_reference": reply.payer_reference, **exchange_detail(reply)},
        )
    save(repository, authorization, state, note, items=False)
    return None


def follow_up_handler(deps: FollowUpDeps, documents: SentDocuments) -> Handler:
    async def follow_up(job: JobContext) -> JobOutcome | None:
        if job.authorization_id is None:
            raise JobError("follow-up job without an authorization", permanent=True)
        repository = AuthorizationRepository(job.session, None)  # the worker acts for every client
        authorization = await repository.get(job.authorization_id)
        action = scheduling.action_of(job.payload)
        if authorization is None:
            return None
        if action is FollowUpAction.CANCEL:
            return await _tell_payer_of_cancel(deps, job, repository, authorization)
        if authorization.replaced_by_id is not None:
            return None
        if not authorization.status.is_open:
            return None  # decided meanwhile (e.g. answered within the sync budget after all)
        if authorization.payer_id not in deps.payers:
            raise JobError(f"payer {authorization.payer_id!r} is no longer configured", permanent=True)
        entry = deps.payers.get(authorization.payer_id)
        parsed, reference = stored_request(authorization)
        reference = await documents.with_documents(job.session, reference)  # documents the provider sent, if any
        bundle = authorization.request_document
        submission = PayerSubmission(str(authorization.id), parsed.request, bundle)
        answer: PayerReply | PayerRejected
        try:
            if action is FollowUpAction.SUBMIT:
                answer = await entry.adapter.submit(submission)
            else:
                answer = await entry.adapter.inquire(reference)
        except PayerRejected as rejection:
            answer = rejection
        if action is FollowUpAction.CONFIRM and isinstance(answer, PayerRejected):
            # The payer does not know the request (the first call never reached it): send it now.
            try:
                answer = await entry.adapter.submit(submission)
            except PayerRejected as rejection:
                answer = rejection
        # Other PayerErrors propagate: the worker retries with backoff, honouring their retry_after.
        now = job.now()
        locked = await repository.get_for_update(authorization.id)
        if locked is None or not locked.status.is_open:
            return None
        if isinstance(answer, PayerRejected):
            await record_rejection(repository, locked, answer, now=now)
            return None
        reply = answer
        state = state_of(locked)
        # Items already finally decided (by the payer earlier, or by the payer's published rules) stay so.
        change = state.answer(
            {d.sequence: d for d in reply.decisions},
            now=now,
            timeline_type="payer-answered",
            approval_validity=entry.approval_validity,
            reply=reply,
            keep_final=True,
            detail={"payer_reference": reply.payer_reference, "action": action.value, **exchange_detail(reply)},
        )
        record(repository, locked, state, change, parsed, reply=reply, base_url=deps.settings.base_url)
        status = change.after
        if status.is_open:
            after = max(reply.retry_after or DEFAULT_INTERVAL, MINIMUM_INTERVAL)
            return Reschedule(after=after, payload={"action": FollowUpAction.INQUIRE.value})
        return None

    return follow_up


async def follow_up_now(session: AsyncSession, authorization: Authorization, *, now: datetime) -> Job:
    """Operations' "follow up now": the queued follow-up moves to `now`, or one is planned if none is queued.

    Refused (409) for a replaced version or a decided request: there is nothing to wait for."""
    if authorization.replaced_by_id is not None:
        raise Conflict(f"authorization {authorization.id} was replaced by {authorization.replaced_by_id}")
    status = authorization.status
    if not status.is_open:
        raise Conflict(f"authorization {authorization.id} is {status.value}: there is no decision to wait for")
    job = await scheduling.queued(session, authorization.id)
    if job is not None:
        await scheduling.replan(session, authorization.id, now=now, run_at=now, action=scheduling.action_of(job))
        await session.refresh(job)
        return job
    action = FollowUpAction.INQUIRE if authorization.payer_reference else FollowUpAction.CONFIRM
    job = scheduling.plan(session, authorization, now=now, run_at=now, action=action)
    await session.flush()
    return job
