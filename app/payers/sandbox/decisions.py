"""Turn a sandbox outcome into an item decision (pure functions, table-tested)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal

from app.domain.codes import ReviewAction
from app.domain.model import Coding, ItemDecision, Period, ServiceItem
from app.errors import Issue
from app.payers.errors import PayerError, PayerRejected, PayerTimeout, PayerUnavailable
from app.payers.sandbox.rules import Outcome

_ACTIONS: dict[str, ReviewAction] = {
    "approve": ReviewAction.CERTIFIED,
    "deny": ReviewAction.NOT_CERTIFIED,
    "pend": ReviewAction.PENDED,
    "request-info": ReviewAction.PENDED,  # pended while the payer waits for documents
    "modify": ReviewAction.MODIFIED,
    "partial": ReviewAction.PARTIAL,
    "not-required": ReviewAction.NO_ACTION_REQUIRED,
}
_CERTIFYING = frozenset({ReviewAction.CERTIFIED, ReviewAction.PARTIAL, ReviewAction.MODIFIED})


def fault(outcome: Outcome) -> PayerError | None:
    """The payer error a fault outcome simulates, or None for a decision."""
    retry = timedelta(seconds=outcome.retry_after_seconds) if outcome.retry_after_seconds is not None else None
    text = outcome.reason_text
    if outcome.outcome == "unavailable":
        return PayerUnavailable(text or "sandbox payer simulates an outage", retry_after=retry)
    if outcome.outcome == "timeout":
        return PayerTimeout(text or "sandbox payer simulates a timeout", retry_after=retry)
    if outcome.outcome == "reject":
        message = text or "sandbox payer rejects the request"
        return PayerRejected(message, issues=[Issue(text=message, code="business-rule")], status_code=400)
    return None


def _period(item: ServiceItem, today: date, days: int) -> Period:
    start = item.serviced.start if item.serviced is not None and item.serviced.start is not None else today
    return Period(start=start, end=start + timedelta(days=days - 1))


def _partial_quantity(item: ServiceItem, outcome: Outcome) -> Decimal | None:
    if outcome.authorized_quantity is not None:
        return outcome.authorized_quantity
    if item.quantity is None:
        return None
    return max(Decimal(1), (item.quantity / 2).to_integral_value(rounding=ROUND_FLOOR))


def decide_item(
    item: ServiceItem, outcome: Outcome, *, today: date, validity_days: int, authorization_number: str
) -> ItemDecision:
    """The decision for one item; `outcome` must not be a fault."""
    if item.cancelled:
        return ItemDecision(sequence=item.sequence, action=ReviewAction.CANCELLED)
    action = _ACTIONS[outcome.outcome]
    reasons: tuple[Coding, ...] = ()
    reason_text = outcome.reason_text
    if outcome.reason_code is not None:
        reasons = (Coding(system=outcome.reason_system, code=outcome.reason_code),)
    if action is ReviewAction.NOT_CERTIFIED and not reasons:
        reasons = (Coding(system=outcome.reason_system, code="denied"),)
        reason_text = reason_text or "Denied by a sandbox rule"
    if action not in _CERTIFYING:
        return ItemDecision(sequence=item.sequence, action=action, reason_codes=reasons, reason_text=reason_text)
    quantity = item.quantity
    service = None
    days = validity_days
    if action is ReviewAction.PARTIAL:
        quantity = _partial_quantity(item, outcome)
    elif action is ReviewAction.MODIFIED:
        quantity = outcome.authorized_quantity if outcome.authorized_quantity is not None else item.quantity
        days = outcome.authorized_days or validity_days
        if outcome.authorized_code is not None:
            system = outcome.authorized_system or item.product_or_service.system
            service = Coding(system=system, code=outcome.authorized_code)
    return ItemDecision(
        sequence=item.sequence,
        action=action,
        reason_codes=reasons,
        reason_text=reason_text,
        authorization_number=f"{authorization_number}-{item.sequence}",
        authorized_quantity=quantity,
        authorized_period=_period(item, today, days),
        authorized_service=service,
    )


def certifies(decision: ItemDecision) -> bool:
    return decision.action in _CERTIFYING
