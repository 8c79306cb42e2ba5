"""The decisions the kit scripts (`ROUND_TRIPS`, by case name) and the check that a reply carries them."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from app.payers.sdk import Coding, ItemDecision, PayerReply, ReviewAction
from app.payers.testing.scripting import Decide


def decision(sequence: int, action: ReviewAction, **kwargs: Any) -> ItemDecision:
    return ItemDecision(sequence=sequence, action=action, **kwargs)


DENIAL = Coding("urn:epa-hub:contract-kit", "not-covered", "Not covered")
ROUND_TRIPS: dict[str, Decide] = {
    "all-approved": Decide(
        tuple(decision(n, ReviewAction.CERTIFIED, authorization_number=f"AUTH-{n}") for n in (1, 2, 3))
    ),
    "mixed": Decide(
        (
            decision(1, ReviewAction.CERTIFIED, authorization_number="AUTH-1"),
            decision(2, ReviewAction.NOT_CERTIFIED, reason_codes=(DENIAL,)),
            decision(3, ReviewAction.MODIFIED, authorization_number="AUTH-3", authorized_quantity=Decimal(2)),
        )
    ),
    "no-auth-required": Decide(tuple(decision(n, ReviewAction.NO_ACTION_REQUIRED) for n in (1, 2, 3))),
    "pended-then-approved": Decide(
        tuple(decision(n, ReviewAction.PENDED) for n in (1, 2, 3)),
        on_inquire=tuple(decision(n, ReviewAction.CERTIFIED, authorization_number=f"AUTH-{n}") for n in (1, 2, 3)),
    ),
}


def assert_decisions(reply: PayerReply, expected: Sequence[ItemDecision]) -> None:
    """The reply carries each expected decision (action, reasons, quantity, an authorization number)."""
    assert isinstance(reply, PayerReply), f"adapters return PayerReply, not {type(reply).__name__}"
    for want in expected:
        got = reply.decision_for(want.sequence)
        assert got is not None, f"no decision for item {want.sequence}"
        assert got.action is want.action, f"item {want.sequence}: {got.action} instead of {want.action}"
        wanted_codes = {c.code for c in want.reason_codes}
        assert wanted_codes <= {c.code for c in got.reason_codes}, f"item {want.sequence}: reason codes lost"
        if want.authorized_quantity is not None:
            assert got.authorized_quantity == want.authorized_quantity, f"item {want.sequence}: quantity"
        if want.authorization_number is not None:
            assert got.authorization_number, f"item {want.sequence}: authorization number lost"
