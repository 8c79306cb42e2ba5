"""Recording what a payer (or operations) said about an appeal, through the aggregate.

Shared by the appeal use case (the answer within the sync budget), the appeal follow-up job and the
operations call that records an outcome which came by another channel. Each takes the authorization
row locked for update and the appeal row, and writes through `app.authorizations.recording`.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.authorizations.recording import record, save, state_of
from app.authorizations.repository import AuthorizationRepository
from app.authorizations.stored import stored_submission
from app.domain.codes import AuthorizationStatus
from app.jobs.planning import AuthorizationJobs
from app.payers.appeals import AppealOutcome, AppealReply, PeerToPeer
from app.store.models import Appeal, Authorization, Job

APPEAL_FOLLOW_UP = "appeal.follow_up"
APPEAL_DEADLINE = "appeal.deadline"
FOLLOW_UPS = AuthorizationJobs(APPEAL_FOLLOW_UP)
DEADLINES = AuthorizationJobs(APPEAL_DEADLINE)
SEND = "send"  # the payer has not acknowledged the appeal yet: send it (again)
STATUS = "status"  # the payer has it: ask for its outcome
DEFAULT_APPEAL_INTERVAL = timedelta(minutes=15)
MINIMUM_APPEAL_INTERVAL = timedelta(seconds=1)


def plan_follow_up(
    session: AsyncSession, authorization: Authorization, appeal_id: uuid.UUID, *, now: datetime, run_at: datetime
) -> Job:
    return FOLLOW_UPS.plan(
        session, authorization, {"appeal_id": str(appeal_id), "action": SEND}, now=now, run_at=run_at
    )


async def replan_follow_up(
    session: AsyncSession, authorization_id: uuid.UUID, appeal_id: uuid.UUID, *, now: datetime, run_at: datetime
) -> None:
    """The payer has the appeal and reviews it: the queued follow-up (one undecided appeal at a time) asks for
    its status at `run_at`."""
    await FOLLOW_UPS.replan(
        session, authorization_id, {"appeal_id": str(appeal_id), "action": STATUS}, now=now, run_at=run_at
    )


async def settle_follow_up(session: AsyncSession, authorization_id: uuid.UUID, *, now: datetime) -> None:
    """The appeal is decided (or refused): no queued follow-up is needed any more."""
    await FOLLOW_UPS.settle(session, authorization_id, now=now)


def plan_deadline(session: AsyncSession, authorization: Authorization, appeal: Appeal, *, now: datetime) -> None:
    """`appeal-overdue` at the payer's deadline, unless the appeal is decided by then."""
    DEADLINES.plan(session, authorization, {"appeal_id": str(appeal.id)}, now=now, run_at=appeal.due_at)


def record_peer_to_peer(
    repository: AuthorizationRepository,
    row: Authorization,
    appeal: Appeal | None,
    held: bool,
    *,
    now: datetime,
    by: str,
    note: str | None = None,
) -> None:
    state = state_of(row, items=False)
    detail: dict[str, object] = {"by": by}
    if appeal is not None:
        detail["appeal_id"] = str(appeal.id)
        appeal.peer_to_peer = (PeerToPeer.HELD if held else PeerToPeer.REQUESTED).value
        appeal.updated_at = now
    if note:
        detail["note"] = note
    save(repository, row, state, state.peer_to_peer(held, now=now, detail=detail), items=False)


def _moves_on(recorded: str | None, said: PeerToPeer | None) -> bool:
    """Whether the payer's word on a peer-to-peer review is news: requested, then held; never back."""
    if said is None or recorded == PeerToPeer.HELD.value:
        return False
    return recorded is None or said is PeerToPeer.HELD


def record_outcome(
    repository: AuthorizationRepository,
    row: Authorization,
    appeal: Appeal,
    reply: AppealReply,
    *,
    now: datetime,
    approval_validity: timedelta,
    base_url: str,
    by: str,
) -> bool:
    """Record the payer's answer; True when the appeal is decided (approved or denied)."""
    if reply.payer_reference:
        appeal.payer_reference = reply.payer_reference
    appeal.updated_at = now
    if _moves_on(appeal.peer_to_peer, reply.peer_to_peer):
        record_peer_to_peer(repository, row, appeal, reply.peer_to_peer is PeerToPeer.HELD, now=now, by=by)
    if reply.outcome is AppealOutcome.PENDED or row.status is not AuthorizationStatus.APPEAL_SUBMITTED:
        return False
    state = state_of(row)
    detail: dict[str, object] = {"appeal_id": str(appeal.id), "by": by}
    if reply.reason_text:
        detail["payer_reason"] = reply.reason_text
    change = state.decide_appeal(
        approved=reply.outcome is AppealOutcome.APPROVED,
        now=now,
        approval_validity=approval_validity,
        decisions={d.sequence: d for d in reply.decisions},
        detail=detail,
    )
    record(repository, row, state, change, stored_submission(row), base_url=base_url)
    appeal.outcome = reply.outcome.value
    appeal.decided_at = now
    return True
