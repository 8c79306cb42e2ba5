"""CDex `$submit-attachment`: store the documents a payer asked for, link them, forward them to the payer.

Two paths, like `$submit`. A payer that answers in process (the sandbox) gets the documents in the
same transaction that stores them, and its answer is recorded there: one commit. A remote payer is
never called inside the request's transaction (it would hold the writer lock for as long as the
payer takes): the documents are stored with an `authorization.attachments` job (the outbox), and the
worker forwards them and records the answer in the job's own unit of work.

Adapters with `submit_attachment` get the documents not yet forwarded; the others get every document
sent so far on `inquire` (here and on every later follow-up).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.authorizations import scheduling
from app.authorizations.attachments.repository import AttachmentRepository, documents_of
from app.authorizations.deps import AttachmentDeps
from app.authorizations.recording import record, record_rejection, save, state_of
from app.authorizations.repository import AuthorizationRepository
from app.authorizations.stored import stored_request
from app.domain.codes import AuthorizationStatus
from app.domain.lifecycle import InvalidTransition
from app.domain.model import Attachment, PayerReply
from app.errors import Conflict, Issue, Unprocessable
from app.fhir.attachments import AttachmentSubmission
from app.jobs.planning import AuthorizationJobs
from app.payers import PayerEntry, PayerError, PayerReference, PayerRejected
from app.payers.contract import answers_in_process, receives_attachments
from app.security.principal import Principal
from app.store.database import writer_turn
from app.store.models import Authorization

FORWARD = "authorization.attachments"
FORWARDS = AuthorizationJobs(FORWARD)
_TRACKING = "Parameters.parameter.where(name='TrackingId').valueIdentifier"
AnswerCheck = Callable[[str], list[Issue]]  # the questionnaire the payer asked for -> errors in its answers


@dataclass(frozen=True, slots=True)
class AttachResult:
    authorization_id: uuid.UUID
    status: AuthorizationStatus
    stored: int  # new documents
    duplicates: int  # sent before (stored once)


class StoredDocuments:
    """The core's `SentDocuments`, kept in this sub-room's table (the room's face hands it to the core)."""

    async def keep(
        self, session: AsyncSession, authorization: Authorization, documents: Sequence[Attachment], *, now: datetime
    ) -> int:
        return await AttachmentRepository(session, authorization.client_id).add_new(authorization, documents, now=now)

    async def with_documents(self, session: AsyncSession, reference: PayerReference) -> PayerReference:
        rows = await AttachmentRepository(session, None).for_authorization(uuid.UUID(reference.authorization_id))
        return dataclasses.replace(reference, attachments=documents_of(rows)) if rows else reference


SENT_DOCUMENTS = StoredDocuments()


async def ask_payer(session: AsyncSession, entry: PayerEntry, authorization: Authorization) -> PayerReference:
    _parsed, reference = stored_request(authorization)
    rows = await AttachmentRepository(session, None).for_authorization(authorization.id)
    if receives_attachments(entry.adapter):
        rows = [row for row in rows if row.forwarded_at is None] or rows
    return dataclasses.replace(reference, attachments=documents_of(rows))


async def call(entry: PayerEntry, reference: PayerReference) -> object:
    adapter = entry.adapter
    if receives_attachments(adapter):
        return await adapter.submit_attachment(reference)  # type: ignore[attr-defined]
    return await adapter.inquire(reference)


async def record_answer(
    deps: AttachmentDeps,
    repository: AuthorizationRepository,
    entry: PayerEntry,
    authorization: Authorization,
    answer: object,
) -> None:
    """The payer's answer to the documents, through the aggregate; the follow-up moved or settled."""
    session = repository.session
    now = deps.clock()
    await AttachmentRepository(session, None).mark_forwarded(authorization.id, now=now)
    if isinstance(answer, PayerRejected):
        await record_rejection(repository, authorization, answer, now=now)
        return
    assert isinstance(answer, PayerReply)
    parsed, _reference = stored_request(authorization)
    state = state_of(authorization)
    change = state.answer(
        {d.sequence: d for d in answer.decisions},
        now=now,
        timeline_type="payer-answered",
        approval_validity=entry.approval_validity,
        reply=answer,
        keep_final=True,
        detail={"payer_reference": answer.payer_reference, "action": "attachments"},
    )
    record(repository, authorization, state, change, parsed, reply=answer, base_url=deps.settings.base_url)
    if change.after.is_open:
        run_at = scheduling.follow_up_at(now, answer.retry_after)
        action = scheduling.FollowUpAction.INQUIRE
        await scheduling.plan_or_replan(session, authorization, now=now, run_at=run_at, action=action)
    else:
        await scheduling.settle(session, authorization.id, now=now)


async def submit_attachment(
    deps: AttachmentDeps, principal: Principal, submission: AttachmentSubmission, check: AnswerCheck | None = None
) -> AttachResult:
    """Store the documents for the caller's authorization the TrackingId names, then forward them.
    `check`: when the open information request names a questionnaire, the errors in the answers to it
    (docs/dtr.md); any refuses the call (422), nothing stored, the payer still waiting."""
    async with writer_turn(deps.engine), deps.sessions.begin() as session:
        attachments = AttachmentRepository(session, principal.client_id)
        found = await attachments.authorization_id_for(submission.tracking_id)
        repository = AuthorizationRepository(session, principal.client_id)
        authorization = await repository.get_for_update(found) if found is not None else None
        if authorization is None:
            text = f"TrackingId {submission.tracking_id.value} names no prior authorization of this client"
            raise Unprocessable(text, issues=[Issue(text=text, code="not-found", expression=_TRACKING)])
        member = submission.member
        if member is not None and authorization.patient_member_id not in (None, member.value):
            text = "MemberId is not the member of the authorization the TrackingId names"
            expression = "Parameters.parameter.where(name='MemberId').valueIdentifier"
            raise Unprocessable(text, issues=[Issue(text=text, code="business-rule", expression=expression)])
        asked = (authorization.info_request or {}).get("questionnaire")
        if check is not None and isinstance(asked, str) and (findings := check(asked)):
            text = f"the QuestionnaireResponse does not complete the questionnaire the payer asked for ({asked})"
            raise Unprocessable(text, issues=findings)
        now = deps.clock()
        state = state_of(authorization)
        documents = submission.attachments
        stored = await attachments.add_new(authorization, documents, now=now)
        try:  # refused: the transaction rolls back, nothing is stored
            detail = {"attach_to": submission.attach_to, "new": stored}
            change = state.attach(len(documents), now=now, detail=detail)
        except InvalidTransition:
            text = f"the authorization is {authorization.status}; it awaits no documents"
            raise Conflict(text, issues=[Issue(text=text, code="business-rule", expression=_TRACKING)]) from None
        save(repository, authorization, state, change, items=False)
        if stored == 0 and change.before is not AuthorizationStatus.INFO_REQUESTED:
            # the payer has every one of them already and is not waiting for them
            return AttachResult(authorization.id, authorization.status, 0, len(documents))
        entry = deps.payers.get(authorization.payer_id) if authorization.payer_id in deps.payers else None
        in_process = entry is not None and answers_in_process(entry.adapter)
        answer: object = None
        if entry is not None and in_process:
            try:
                answer = await call(entry, await ask_payer(session, entry, authorization))
            except PayerRejected as rejection:
                answer = rejection
            except PayerError:
                answer = None  # the worker forwards them again
        if entry is not None and answer is not None:
            await record_answer(deps, repository, entry, authorization, answer)
        else:
            FORWARDS.plan(session, authorization, {}, now=now, run_at=now)
        return AttachResult(authorization.id, authorization.status, stored, len(documents) - stored)
