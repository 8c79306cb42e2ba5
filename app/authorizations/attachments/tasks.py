"""The worker side of attachments: forward the stored documents to a remote payer, then record its answer.

Runs as the `authorization.attachments` job, planned by `submit_attachment` when the payer is not
asked in the request's own transaction. The payer is called before anything is written; the
answer is recorded in the job's own unit of work.
"""

from __future__ import annotations

from app.authorizations.attachments.service import FORWARD, ask_payer, call, record_answer
from app.authorizations.deps import AttachmentDeps
from app.authorizations.repository import AuthorizationRepository
from app.jobs.contract import Handler, JobContext, JobError, JobOutcome
from app.payers import PayerRejected


def forward_handler(deps: AttachmentDeps) -> Handler:
    """The worker side: forward stored documents to a remote payer, then record its answer."""

    async def forward(job: JobContext) -> JobOutcome | None:
        if job.authorization_id is None:
            raise JobError("attachments job without an authorization", permanent=True)
        repository = AuthorizationRepository(job.session, None)
        authorization = await repository.get(job.authorization_id)
        if authorization is None or authorization.replaced_by_id is not None or not authorization.status.is_open:
            return None
        if authorization.payer_id not in deps.payers:
            raise JobError(f"payer {authorization.payer_id!r} is no longer configured", permanent=True)
        entry = deps.payers.get(authorization.payer_id)
        reference = await ask_payer(job.session, entry, authorization)
        answer: object
        try:
            answer = await call(entry, reference)  # other PayerErrors propagate: the worker retries
        except PayerRejected as rejection:
            answer = rejection
        locked = await repository.get_for_update(authorization.id)
        if locked is None or not locked.status.is_open:
            return None
        await record_answer(deps, repository, entry, locked, answer)
        return None

    return forward


def handlers(deps: AttachmentDeps) -> dict[str, Handler]:
    """The attachments sub-room's job kinds."""
    return {FORWARD: forward_handler(deps)}
