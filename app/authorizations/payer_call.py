"""The payer asked within the sync budget, and what the follow-up does next with its answer.

`call_payer` never raises: a payer that is slow, down or broken means "ask again later", and the
request is already stored with its follow-up job (an adapter that raises outside its error tree
is reported as `PayerProtocolError` of kind "adapter-failed"). `fault_entry` names what happened
for the timeline. `next_follow_up` is the recovery rule: a pended
answer is inquired after; a payer that never had the request gets it again; a call that may have
reached the payer is confirmed by inquiry before anything is sent again.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from app.authorizations.deps import PayerAccess
from app.authorizations.scheduling import FollowUpAction
from app.domain.model import Attachment, PayerReply
from app.fhir.submit import ParsedSubmission
from app.logging import describe
from app.payers import PayerEntry, PayerError, PayerProtocolError, PayerReference, PayerSubmission, PayerUnavailable
from app.store.models import Authorization

log = logging.getLogger(__name__)

PayerOutcome = PayerReply | PayerError | None  # None: no answer within the sync budget


async def call_payer(
    deps: PayerAccess,
    entry: PayerEntry,
    authorization: Authorization,
    parsed: ParsedSubmission,
    documents: tuple[Attachment, ...] = (),
) -> PayerOutcome:
    """The payer's answer within the sync budget; never raises (a fault means "ask again later")."""
    request = parsed.request
    try:
        if request.cancels_all:
            reference = PayerReference(
                str(authorization.id), authorization.payer_reference, request, parsed.bundle_bytes
            )
            call = entry.adapter.cancel(reference)
        else:
            submission = PayerSubmission(str(authorization.id), request, parsed.bundle_bytes, documents)
            call = entry.adapter.submit(submission)
        return await asyncio.wait_for(call, timeout=deps.settings.payer_sync_budget_seconds)
    except TimeoutError:
        log.info(
            "payer did not answer within the sync budget",
            extra={"payer_id": entry.id, "authorization_id": str(authorization.id)},
        )
        return None
    except PayerError as exc:
        log.warning(
            "payer call failed",
            extra={
                "payer_id": entry.id,
                "authorization_id": str(authorization.id),
                "error_type": type(exc).__name__,
                "error": exc.safe_message,
            },
        )
        return exc
    except Exception as exc:  # an adapter bug must not lose the request: it is followed up later
        # error classes and stack only: an exception's message may quote request values
        log.error("payer adapter raised outside its error tree", extra={"payer_id": entry.id, **describe(exc)})
        reason = f"the adapter raised {type(exc).__name__} outside its error tree"
        return PayerProtocolError(reason, kind="adapter-failed")


def fault_entry(deps: PayerAccess, outcome: PayerError | None) -> tuple[str, dict[str, str | None]]:
    """The timeline entry of a payer that did not decide: `payer-<kind>` and why, in the adapter's words.

    The kinds: unreachable, refused (our credentials or the connection), timed-out (also: no answer
    within the sync budget), unreadable (an answer we cannot understand), adapter-failed."""
    if outcome is None:
        budget = deps.settings.payer_sync_budget_seconds
        reason = f"no answer within the sync budget of {budget:g} s"
        return "payer-timed-out", {"kind": "timed-out", "error": "sync budget exceeded", "reason": reason}
    detail: dict[str, str | None] = {"kind": outcome.kind, "error": type(outcome).__name__, "reason": outcome.reason}
    return f"payer-{outcome.kind}", detail


def next_follow_up(
    deps: PayerAccess, parsed: ParsedSubmission, outcome: PayerOutcome
) -> tuple[FollowUpAction, timedelta | None]:
    """What the follow-up does next and when: recovery asks before it repeats.

    A pended answer is inquired after (at the payer's Retry-After, else the default interval). A
    payer that was unreachable never had the request: send it again, soon. A call that timed out,
    answered garbage or broke the adapter may have reached the payer: confirm by inquiry first.
    """
    if isinstance(outcome, PayerReply):
        return FollowUpAction.INQUIRE, outcome.retry_after
    first_retry = timedelta(seconds=deps.settings.payer_retry_first_seconds)
    retry_after = (outcome.retry_after if isinstance(outcome, PayerError) else None) or first_retry
    if parsed.request.cancels_all:
        return FollowUpAction.CANCEL, retry_after
    if isinstance(outcome, PayerUnavailable):
        return FollowUpAction.SUBMIT, retry_after
    return FollowUpAction.CONFIRM, retry_after
