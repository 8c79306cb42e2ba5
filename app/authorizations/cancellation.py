"""Cancel by operations: tell the payer within the sync budget, cancel every item, keep the timeline.

Two short transactions around the payer call, as in app.authorizations.submit: no write lock is held
while the payer thinks. A payer that is down does not stop the cancel: the authorization is
cancelled here at once and a follow-up job (action "cancel") tells the payer later.
(A client cancels by PAS instead: a `$submit` whose Claim cancels every item.) The timeline records
who cancelled (the operator's client id) and why (an optional reason).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass

from app.authorizations import scheduling
from app.authorizations.deps import PayerCallDeps
from app.authorizations.errors import not_found
from app.authorizations.exchanges import exchange_detail
from app.authorizations.recording import record, state_of, state_without_items
from app.authorizations.repository import AuthorizationRepository
from app.authorizations.scheduling import FollowUpAction
from app.authorizations.stored import stored_request, stored_submission
from app.domain.codes import AuthorizationStatus
from app.domain.lifecycle import Event
from app.domain.model import PayerReply
from app.errors import Conflict
from app.logging import describe
from app.payers import PayerError, PayerReference, PayerRejected
from app.store.models import Authorization, Job

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Answer:
    reply: PayerReply | None
    outcome: str  # notified | rejected | unreachable | not-configured


def _check_cancellable(authorization: Authorization) -> None:
    if authorization.replaced_by_id is not None:
        raise Conflict(f"authorization {authorization.id} was replaced by {authorization.replaced_by_id}; cancel that")
    if not state_without_items(authorization).can(Event.CANCELLED, AuthorizationStatus.CANCELLED):
        raise Conflict(f"authorization {authorization.id} is {authorization.status} and cannot be cancelled")


async def _ask_payer(deps: PayerCallDeps, payer_id: str, reference: PayerReference) -> _Answer:
    if payer_id not in deps.payers:
        return _Answer(None, "not-configured")
    adapter = deps.payers.get(payer_id).adapter
    try:
        reply = await asyncio.wait_for(adapter.cancel(reference), timeout=deps.settings.payer_sync_budget_seconds)
    except PayerRejected:
        return _Answer(None, "rejected")  # asking again would not change its mind
    except (TimeoutError, PayerError) as exc:
        log.warning("payer cancel failed", extra={"payer_id": payer_id, "error_type": type(exc).__name__})
        return _Answer(None, "unreachable")
    except Exception as exc:  # an adapter bug must not lose the cancel: the follow-up tries again
        log.error("payer adapter raised outside its error tree", extra=describe(exc))  # no message: PHI
        return _Answer(None, "unreachable")
    return _Answer(reply, "notified")


@dataclass(frozen=True, slots=True)
class Cancelled:
    """What the cancel did: whether the payer heard of it, and the follow-up that will tell it otherwise."""

    authorization_id: uuid.UUID
    payer_notified: bool
    follow_up: Job | None  # queued (action "cancel") when the payer was unreachable


REASON_LENGTH = 500  # characters of an operator's reason kept in the timeline


def cancel_detail(outcome: str, operator: str | None, reason: str | None) -> dict[str, str]:
    """The timeline's `cancelled` detail: who cancelled (the operator's client id) and why, if given.

    The reason is the operator's free text: kept in the timeline only (never logged), one line, capped."""
    detail = {"by": "operations", "payer": outcome}
    if operator:
        detail["operator"] = operator
    note = " ".join((reason or "").split())[:REASON_LENGTH]
    if note:
        detail["note"] = note
    return detail


async def cancel(
    deps: PayerCallDeps,
    authorization_id: uuid.UUID,
    *,
    client_id: str | None,
    operator: str | None = None,
    reason: str | None = None,
) -> Cancelled:
    async with deps.sessions() as session:  # transaction 1: read what the payer needs
        authorization = await AuthorizationRepository(session, client_id).get(authorization_id)
        if authorization is None:
            raise not_found(authorization_id)
        _check_cancellable(authorization)
        payer_id = authorization.payer_id
        _parsed, reference = stored_request(authorization)
    answer = await _ask_payer(deps, payer_id, reference)
    async with deps.sessions.begin() as session:  # transaction 2: record
        repository = AuthorizationRepository(session, client_id)
        locked = await repository.get_for_update(authorization_id)
        if locked is None:
            raise not_found(authorization_id)
        _check_cancellable(locked)  # decided or cancelled meanwhile
        now = deps.clock()
        state = state_of(locked)
        change = state.cancel(
            now=now,
            reply=answer.reply,
            detail={**cancel_detail(answer.outcome, operator, reason), **exchange_detail(answer.reply)},
        )
        parsed = stored_submission(locked)
        record(repository, locked, state, change, parsed, reply=answer.reply, base_url=deps.settings.base_url)
        follow_up = None
        if answer.outcome == "unreachable":
            run_at = scheduling.follow_up_at(now, None)
            await scheduling.plan_or_replan(session, locked, now=now, run_at=run_at, action=FollowUpAction.CANCEL)
            await session.flush()
            follow_up = await scheduling.queued(session, locked.id)
            if follow_up is not None:
                await session.refresh(follow_up)
        else:
            await scheduling.settle(session, locked.id, now=now)
        await session.flush()
    return Cancelled(authorization_id, answer.outcome == "notified", follow_up)
