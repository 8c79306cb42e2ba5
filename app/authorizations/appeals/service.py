"""Appeals: lodge one (operations call or PASClaimUpdate), record its outcome or a peer-to-peer review.

Lodging runs in two short transactions around the payer call, as `app.operations.cancel`
does, so no write lock is held while the payer thinks: the first stores the appeal, its documents,
the `appeal-submitted` transition, the deadline clock and (for a payer whose adapter takes appeals)
a follow-up job due after the sync budget, then commits; the payer is asked within the sync budget;
the second records its answer and moves or settles the follow-up. A process that dies between the
two loses nothing: the follow-up sends the appeal again (adapters are idempotent on `appeal_id`).
A payer whose adapter takes no appeals gets it by another channel; operations record the outcome.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.authorizations.appeals.recording import (
    DEFAULT_APPEAL_INTERVAL,
    MINIMUM_APPEAL_INTERVAL,
    plan_deadline,
    plan_follow_up,
    record_outcome,
    record_peer_to_peer,
    replan_follow_up,
    settle_follow_up,
)
from app.authorizations.appeals.repository import AppealRepository
from app.authorizations.deps import PayerCallDeps
from app.authorizations.errors import not_found
from app.authorizations.recording import record, save, state_of
from app.authorizations.repository import AuthorizationRepository
from app.authorizations.stored import stored_submission
from app.domain.authorization import APPEALABLE, PEER_TO_PEER
from app.domain.clocks import APPEAL_WINDOWS, DecisionWindows
from app.domain.codes import AuthorizationStatus, Priority
from app.errors import Conflict
from app.logging import describe
from app.payers import PayerError, PayerRejected
from app.payers.appeals import AppealDocument as Document
from app.payers.appeals import AppealingAdapter, AppealOutcome, AppealReply, PayerAppeal
from app.store.models import Appeal, AppealDocument, Authorization

log = logging.getLogger(__name__)

SAFETY_MARGIN = timedelta(seconds=30)
DEFAULT_APPROVAL_VALIDITY = timedelta(days=180)  # a payer no longer configured (as in app/payers/config.py)


class AppealRefused(Conflict):
    """The authorization cannot be appealed now (its status says why)."""


@dataclass(frozen=True, slots=True)
class AppealRequest:
    """An appeal as the practice sends it (validated at the edge)."""

    reason: str | None
    expedited: bool
    documents: tuple[Document, ...] = ()
    channel: str = "operations"  # operations | pas-update
    request_identifier: str | None = None  # pas-update: the update's Bundle identifier


def refusal(authorization: Authorization) -> str | None:
    """Why this authorization cannot be appealed now, or None when it can."""
    status = authorization.status
    if authorization.replaced_by_id is not None:
        return f"authorization {authorization.id} was replaced by {authorization.replaced_by_id}; appeal that"
    if status in APPEALABLE:
        return None
    if status.is_open:
        return (
            f"authorization {authorization.id} is {status.value}: the payer has not decided it yet, "
            "so there is no decision to appeal"
        )
    if status is AuthorizationStatus.APPEAL_SUBMITTED:
        return f"authorization {authorization.id} is already under appeal"
    return (
        f"authorization {authorization.id} is {status.value}: only a denied, partially approved or modified "
        "authorization can be appealed"
    )


@dataclass(frozen=True, slots=True)
class _Payer:
    adapter: AppealingAdapter | None  # None: the appeal goes by another channel
    windows: DecisionWindows  # the payer's appeal deadlines
    approval_validity: timedelta


def _payer(deps: PayerCallDeps, payer_id: str) -> _Payer:
    if payer_id not in deps.payers:
        return _Payer(None, APPEAL_WINDOWS, DEFAULT_APPROVAL_VALIDITY)
    entry = deps.payers.get(payer_id)
    adapter = entry.adapter
    appealing = adapter if isinstance(adapter, AppealingAdapter) else None
    return _Payer(appealing, entry.appeal_windows, entry.approval_validity)


async def _store(
    deps: PayerCallDeps, authorization_id: uuid.UUID, client_id: str | None, request: AppealRequest
) -> tuple[Appeal, str, PayerAppeal | None]:
    """Transaction 1: the appeal, its documents, `appeal-submitted`, the deadline and the follow-up."""
    async with deps.sessions.begin() as session:
        repository = AuthorizationRepository(session, client_id)
        row = await repository.get_for_update(authorization_id)
        if row is None:
            raise not_found(authorization_id)
        if (why := refusal(row)) is not None:
            raise AppealRefused(why)
        now = deps.clock()
        payer_id = row.payer_id
        payer = _payer(deps, payer_id)
        adapter = payer.adapter
        expedited = request.expedited
        appeal = Appeal(
            id=uuid.uuid4(),
            authorization_id=row.id,
            client_id=row.client_id,
            channel=request.channel,
            expedited=expedited,
            reason=request.reason,
            appealed_status=row.status,
            submitted_at=now,
            due_at=now + payer.windows.for_priority(Priority.EXPEDITED if expedited else Priority.STANDARD),
            request_identifier=request.request_identifier,
            updated_at=now,
            documents=[
                AppealDocument(
                    content_type=d.content_type,
                    title=d.title,
                    size=len(d.data),
                    sha256=hashlib.sha256(d.data).hexdigest(),
                    content=d.data,
                )
                for d in request.documents
            ],
        )
        AppealRepository(session, client_id).add(appeal)
        state = state_of(row)
        detail = {
            "appeal_id": str(appeal.id),
            "channel": request.channel,
            "expedited": expedited,
            "documents": len(request.documents),
            "due_at": appeal.due_at.isoformat(),
            "payer": "adapter" if adapter is not None else "another channel",
        }
        change = state.appeal(now=now, detail=detail)
        record(repository, row, state, change, stored_submission(row), base_url=deps.settings.base_url)
        plan_deadline(session, row, appeal, now=now)
        message = None
        if adapter is not None:
            budget = timedelta(seconds=deps.settings.payer_sync_budget_seconds)
            plan_follow_up(session, row, appeal.id, now=now, run_at=now + budget + SAFETY_MARGIN)
            parsed = stored_submission(row)
            message = PayerAppeal(
                str(row.id),
                str(appeal.id),
                row.payer_reference,
                parsed.request,
                row.request_document,
                request.reason,
                expedited,
                request.documents,
            )
        await session.flush()
    return appeal, payer_id, message


async def ask_payer(
    adapter: AppealingAdapter, message: PayerAppeal, budget: float
) -> AppealReply | PayerRejected | None:
    """The payer's answer to the appeal, its refusal, or None when it did not answer (the follow-up tries again)."""
    try:
        return await asyncio.wait_for(adapter.appeal(message), timeout=budget)
    except PayerRejected as rejection:
        return rejection
    except (TimeoutError, PayerError) as exc:
        log.warning("payer appeal failed", extra={"error_type": type(exc).__name__})
    except Exception as exc:  # an adapter bug must not lose the appeal: the follow-up tries again
        log.error("payer adapter raised outside its error tree", extra=describe(exc))  # no message: PHI
    return None


async def apply_answer(
    deps: PayerCallDeps,
    session: AsyncSession,
    authorization_id: uuid.UUID,
    appeal_id: uuid.UUID,
    answer: AppealReply | PayerRejected,
    *,
    now: datetime,
    by: str,
) -> None:
    """Record the payer's answer in the caller's unit of work; the follow-up is moved (pended) or settled."""
    repository = AuthorizationRepository(session, None)
    row = await repository.get_for_update(authorization_id)
    appeal = await AppealRepository(session, None).get(appeal_id)
    if row is None or appeal is None or appeal.outcome is not None:
        return
    if isinstance(answer, PayerRejected):
        state = state_of(row, items=False)
        detail = {"appeal_id": str(appeal_id), "issues": len(answer.issues)}
        save(repository, row, state, state.note("appeal-refused-by-payer", now=now, detail=detail), items=False)
        await settle_follow_up(session, row.id, now=now)
        return
    validity = _payer(deps, row.payer_id).approval_validity
    decided = record_outcome(
        repository, row, appeal, answer, now=now, approval_validity=validity, base_url=deps.settings.base_url, by=by
    )
    if decided or answer.outcome is not AppealOutcome.PENDED:
        await settle_follow_up(session, row.id, now=now)
        return
    after = max(answer.retry_after or DEFAULT_APPEAL_INTERVAL, MINIMUM_APPEAL_INTERVAL)
    await replan_follow_up(session, row.id, appeal.id, now=now, run_at=now + after)


async def submit_appeal(
    deps: PayerCallDeps, authorization_id: uuid.UUID, *, client_id: str | None, request: AppealRequest
) -> uuid.UUID:
    """Lodge an appeal; the payer is asked within the sync budget when its adapter takes appeals."""
    appeal, payer_id, message = await _store(deps, authorization_id, client_id, request)
    adapter = _payer(deps, payer_id).adapter
    if message is None or adapter is None:
        return appeal.id
    answer = await ask_payer(adapter, message, deps.settings.payer_sync_budget_seconds)
    if answer is not None:
        async with deps.sessions.begin() as session:
            now = deps.clock()
            await apply_answer(deps, session, authorization_id, appeal.id, answer, now=now, by="payer")
    return appeal.id


async def decide(
    deps: PayerCallDeps,
    authorization_id: uuid.UUID,
    *,
    client_id: str | None,
    approved: bool,
    note: str | None,
) -> uuid.UUID:
    """Operations record the payer's decision on an appeal that went by another channel (portal, fax, mail)."""
    async with deps.sessions.begin() as session:
        repository = AuthorizationRepository(session, client_id)
        row = await repository.get_for_update(authorization_id)
        if row is None:
            raise not_found(authorization_id)
        appeal = await AppealRepository(session, client_id).undecided(row.id)
        if appeal is None or row.status is not AuthorizationStatus.APPEAL_SUBMITTED:
            raise AppealRefused(f"authorization {authorization_id} is {row.status.value}: it has no appeal to decide")
        now = deps.clock()
        reply = AppealReply(AppealOutcome.APPROVED if approved else AppealOutcome.DENIED, reason_text=note)
        validity = _payer(deps, row.payer_id).approval_validity
        record_outcome(
            repository,
            row,
            appeal,
            reply,
            now=now,
            approval_validity=validity,
            base_url=deps.settings.base_url,
            by="operations",
        )
        await settle_follow_up(session, row.id, now=now)
        return appeal.id


async def peer_to_peer(
    deps: PayerCallDeps, authorization_id: uuid.UUID, *, client_id: str | None, held: bool, note: str | None
) -> uuid.UUID | None:
    """Operations record a peer-to-peer review requested by the payer, or held (before or during an appeal)."""
    async with deps.sessions.begin() as session:
        repository = AuthorizationRepository(session, client_id)
        row = await repository.get_for_update(authorization_id)
        if row is None:
            raise not_found(authorization_id)
        if row.replaced_by_id is not None or row.status not in PEER_TO_PEER:
            raise AppealRefused(
                f"authorization {authorization_id} is {row.status.value}: a peer-to-peer review is recorded for a "
                "denied, partially approved or modified authorization, or one under appeal"
            )
        appeal = await AppealRepository(session, client_id).undecided(row.id)
        record_peer_to_peer(repository, row, appeal, held, now=deps.clock(), by="operations", note=note)
        return appeal.id if appeal is not None else None
