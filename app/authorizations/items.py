"""Authorization items: built from a request, decisions applied, and read back as ItemDecisions."""

from __future__ import annotations

from collections.abc import Iterable

from app.domain.codes import ReviewAction
from app.domain.model import Coding, ItemDecision, Period, PriorAuthRequest, ServiceItem
from app.store.models import AuthorizationItem


def _coding_key(coding: Coding) -> str:
    return f"{coding.system or ''}|{coding.code}"


def _parse_coding_key(key: str) -> Coding:
    system, _, code = key.rpartition("|")
    return Coding(system=system or None, code=code)


def new_item(item: ServiceItem) -> AuthorizationItem:
    serviced = item.serviced
    return AuthorizationItem(
        sequence=item.sequence,
        product_system=item.product_or_service.system,
        product_code=item.product_or_service.code,
        quantity=item.quantity,
        serviced_start=serviced.start if serviced else None,
        serviced_end=serviced.end if serviced else None,
        cancelled=item.cancelled,
    )


def carry_over(item: AuthorizationItem) -> AuthorizationItem:
    """A copy of an earlier version's item (with its decision) for the authorization that replaces it."""
    copy = AuthorizationItem()
    for column in AuthorizationItem.__table__.columns:
        if column.key not in ("id", "authorization_id"):
            setattr(copy, column.key, getattr(item, column.key))
    return copy


def items_for(request: PriorAuthRequest, earlier: Iterable[AuthorizationItem] = ()) -> list[AuthorizationItem]:
    """The items of a new authorization: the request's, plus earlier ones an update did not mention."""
    submitted = {item.sequence: new_item(item) for item in request.items}
    kept = [carry_over(item) for item in earlier if item.sequence not in submitted]
    return sorted([*submitted.values(), *kept], key=lambda i: i.sequence)


def apply_decision(item: AuthorizationItem, decision: ItemDecision) -> None:
    period = decision.authorized_period
    values: dict[str, object] = {
        "decision_code": decision.action.value,
        "reason_codes": [_coding_key(c) for c in decision.reason_codes] or None,
        "reason_text": decision.reason_text,
        "authorization_number": decision.authorization_number,
        "authorized_quantity": decision.authorized_quantity,
        "authorized_start": period.start if period else None,
        "authorized_end": period.end if period else None,
        "authorized_code": decision.authorized_service.code if decision.authorized_service else None,
    }
    if decision.action is ReviewAction.CANCELLED:
        values["cancelled"] = True
    for key, value in values.items():
        if getattr(item, key) != value:  # an instrumented set costs several times a read: set what changes
            setattr(item, key, value)


def decision_of(item: AuthorizationItem) -> ItemDecision | None:
    if item.decision_code is None:
        return None
    period = None
    if item.authorized_start is not None or item.authorized_end is not None:
        period = Period(item.authorized_start, item.authorized_end)
    return ItemDecision(
        sequence=item.sequence,
        action=ReviewAction(item.decision_code),
        reason_codes=tuple(_parse_coding_key(k) for k in item.reason_codes or ()),
        reason_text=item.reason_text,
        authorization_number=item.authorization_number,
        authorized_quantity=item.authorized_quantity,
        authorized_period=period,
        authorized_service=Coding(system=item.product_system, code=item.authorized_code)
        if item.authorized_code
        else None,
    )
