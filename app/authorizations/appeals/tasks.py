"""The worker side of an appeal: its follow-up and its deadline.

- `appeal.follow_up`: send the appeal (again) or ask the payer for its outcome until it is decided.
  The payer is called before anything is written, so no write transaction stays open during the
  call; the answer is recorded in the job's own unit of work.
- `appeal.deadline`: the payer's deadline passed: `appeal-overdue` if the appeal is still undecided.
"""

from __future__ import annotations

import uuid

from app.authorizations.appeals.recording import (
    APPEAL_DEADLINE,
    APPEAL_FOLLOW_UP,
    DEFAULT_APPEAL_INTERVAL,
    MINIMUM_APPEAL_INTERVAL,
    SEND,
    STATUS,
)
from app.authorizations.appeals.repository import AppealRepository
from app.authorizations.appeals.service import apply_answer
from app.authorizations.clocks import current
from app.authorizations.deps import PayerCallDeps
from app.authorizations.recording import save, state_without_items
from app.authorizations.repository import AuthorizationRepository
from app.authorizations.stored import stored_submission
from app.domain.codes import AuthorizationStatus
from app.jobs.contract import Handler, JobContext, JobError, JobOutcome, Reschedule
from app.payers import PayerRejected
from app.payers.appeals import AppealDocument as Document
from app.payers.appeals import AppealingAdapter, AppealOutcome, AppealReference, AppealReply, PayerAppeal


def appeal_follow_up_handler(deps: PayerCallDeps) -> Handler:
    async def follow_up(job: JobContext) -> JobOutcome | None:
        appeal_id = uuid.UUID(str(job.payload.get("appeal_id")))
        appeal = await AppealRepository(job.session, None).get(appeal_id, with_documents=True)
        authorization = (
            await AuthorizationRepository(job.session, None).get(appeal.authorization_id) if appeal else None
        )
        if appeal is None or authorization is None or appeal.outcome is not None:
            return None
        if authorization.payer_id not in deps.payers:
            raise JobError(f"payer {authorization.payer_id!r} is no longer configured", permanent=True)
        adapter = deps.payers.get(authorization.payer_id).adapter
        if not isinstance(adapter, AppealingAdapter):
            return None  # the payer's adapter no longer takes appeals: operations record the outcome
        request = stored_submission(authorization).request
        answer: AppealReply | PayerRejected
        try:
            if job.payload.get("action", SEND) == STATUS:
                reference = AppealReference(
                    str(authorization.id),
                    str(appeal.id),
                    appeal.payer_reference,
                    request,
                    appeal.reason,
                    appeal.expedited,
                )
                answer = await adapter.appeal_status(reference)
            else:
                documents = tuple(Document(d.content_type, d.content, d.title) for d in appeal.documents)
                message = PayerAppeal(
                    str(authorization.id),
                    str(appeal.id),
                    authorization.payer_reference,
                    request,
                    authorization.request_document,
                    appeal.reason,
                    appeal.expedited,
                    documents,
                )
                answer = await adapter.appeal(message)
        except PayerRejected as rejection:
            answer = rejection
        # Other PayerErrors propagate: the worker retries with backoff, honouring their retry_after.
        await apply_answer(deps, job.session, authorization.id, appeal.id, answer, now=job.now(), by="payer")
        if isinstance(answer, AppealReply) and answer.outcome is AppealOutcome.PENDED:
            after = max(answer.retry_after or DEFAULT_APPEAL_INTERVAL, MINIMUM_APPEAL_INTERVAL)
            return Reschedule(after=after, payload={"appeal_id": str(appeal.id), "action": STATUS})
        return None

    return follow_up


async def appeal_deadline(job: JobContext) -> JobOutcome | None:
    """The payer's appeal deadline passed: `appeal-overdue` if the appeal is still undecided."""
    repository, authorization = await current(job)
    now = job.now()
    if authorization is None or authorization.status is not AuthorizationStatus.APPEAL_SUBMITTED:
        return None
    appeal = await AppealRepository(job.session, None).get(uuid.UUID(str(job.payload.get("appeal_id"))))
    if appeal is None or appeal.outcome is not None or now < appeal.due_at:
        return None
    state = state_without_items(authorization)
    save(repository, authorization, state, state.appeal_overdue(now=now, due_at=appeal.due_at), items=False)
    return None


def handlers(deps: PayerCallDeps) -> dict[str, Handler]:
    """The appeals sub-room's job kinds."""
    return {APPEAL_FOLLOW_UP: appeal_follow_up_handler(deps), APPEAL_DEADLINE: appeal_deadline}
