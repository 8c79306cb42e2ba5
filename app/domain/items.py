"""An authorization's items: one service line each, keyed by the request's item.sequence, with the
payer's decision on it and the units (or visits) used against what was authorized.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.domain.codes import ReviewAction as A
from app.domain.model import Coding, ItemDecision, Period, ServiceItem

USABLE = frozenset({A.CERTIFIED, A.PARTIAL, A.MODIFIED})
"""The decisions whose units can be used: certified in total, in part, or modified."""


@dataclass(slots=True)
class Item:
    """One service line of an authorization, keyed by the request's item.sequence."""

    sequence: int
    service: Coding
    quantity: Any = None  # Decimal | None (kept as stored)
    serviced: Period | None = None
    cancelled: bool = False
    decision: ItemDecision | None = None
    units_used: Decimal = Decimal(0)  # units (or visits) used so far against the authorized quantity

    @classmethod
    def requested(cls, item: ServiceItem) -> Item:
        return cls(item.sequence, item.product_or_service, item.quantity, item.serviced, item.cancelled)

    @property
    def action(self) -> A:
        """The item's X12 306 action as it stands (A4 until decided, C once cancelled)."""
        if self.cancelled:
            return A.CANCELLED
        return self.decision.action if self.decision is not None else A.PENDED

    @property
    def finally_decided(self) -> bool:
        return self.decision is not None and self.decision.action.is_final

    def decide(self, decision: ItemDecision) -> None:
        """Apply a decision; a cancelled item stays cancelled whatever a payer says."""
        if self.cancelled:
            self.decision = ItemDecision(self.sequence, A.CANCELLED)
            return
        self.decision = decision
        if decision.action is A.CANCELLED:
            self.cancelled = True

    def cancel(self) -> None:
        self.cancelled = True
        self.decision = ItemDecision(self.sequence, A.CANCELLED)

    @property
    def authorized_period(self) -> Period | None:
        if self.cancelled or self.decision is None or self.decision.authorized_period is None:
            return None
        return self.decision.authorized_period


def authorized_periods(items: Iterable[Item]) -> list[Period]:
    """The authorized periods of the items that have one with an end (what an approval's expiry is taken from)."""
    return [p for p in (i.authorized_period for i in items) if p is not None and p.end is not None]


def overturn(items: Iterable[Item], decisions: Mapping[int, ItemDecision] | None, *, preauth_ref: str | None) -> None:
    """An appeal approved: the items take the decisions the payer gave, or, when it gave none, every item
    not certified in full becomes certified (A1), with its authorization number (else the request's).
    Cancelled items, and items that needed no authorization, stay as they are."""
    for item in items:
        given = (decisions or {}).get(item.sequence)
        if item.cancelled or item.action is A.NO_ACTION_REQUIRED:
            continue
        if given is not None:
            item.decide(given)
        elif not decisions and item.action is not A.CERTIFIED:
            number = item.decision.authorization_number if item.decision is not None else None
            item.decide(ItemDecision(item.sequence, A.CERTIFIED, authorization_number=number or preauth_ref))


class UsageRefused(ValueError):
    """Usage the authorization cannot take (not approved, replaced, an item without authorized units)."""


def authorized_units(item: Item) -> Decimal | None:
    """What an item's use counts against: the decision's authorized quantity, else the requested one."""
    if item.decision is not None and item.decision.authorized_quantity is not None:
        return Decimal(item.decision.authorized_quantity)
    return Decimal(item.quantity) if item.quantity is not None else None


def count_units(
    items: Iterable[Item], sequence: int, units: Decimal, threshold: Decimal
) -> tuple[dict[str, Any], list[str]]:
    """Count `units` used of item `sequence`: its counts for the timeline (`over` when past what was
    authorized) and the levels the count crossed: `exhausting` at `threshold` (a fraction) of the
    authorized units, `exhausted` at all of them. An item that is not authorized, or has no units to
    count against, refuses (UsageRefused)."""
    item = next((i for i in items if i.sequence == sequence), None)
    if item is None or item.cancelled or item.decision is None or item.decision.action not in USABLE:
        raise UsageRefused(f"item {sequence} is not an authorized item of this authorization")
    authorized = authorized_units(item)
    if authorized is None or authorized <= 0:
        raise UsageRefused(f"item {sequence} has no authorized quantity to count against")
    before, after = item.units_used, item.units_used + units
    item.units_used = after
    counts = {
        "item": sequence,
        "units": str(units),
        "used": str(after),
        "authorized": str(authorized),
        "remaining": str(max(authorized - after, Decimal(0))),
        "over": after > authorized,
    }
    levels = (("exhausting", authorized * threshold), ("exhausted", authorized))
    return counts, [name for name, level in levels if before < level <= after]
