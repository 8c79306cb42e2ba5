"""What the rules say about each order of a CRD hook, and which of them an active authorization satisfies.

Judging is pure (the rules and programs in force, the order, the prefetch); only the orders that need
prior authorization are then looked up in the store, in one short read session that is opened only
when there is such an order (most hook calls read nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from app.authorizations import RequirementsDeps, active_authorization_for
from app.coverage.evaluate import Determination, ItemFacts, evaluate
from app.coverage.facts import age_on
from app.coverage.program_format import Routing
from app.domain.model import Identifier
from app.fhir.crd import Order, birth_date, diagnosis_codes, provider_npis, provider_state
from app.requirements.crd_cards import routed_reason
from app.security.principal import Principal

_LOOKED_UP = ("auth-needed", "performpa")  # an existing authorization may satisfy these


class HookDeps(RequirementsDeps, Protocol):
    """A CRD answer: the rules in force, the clock, sessions for its read, the engine for its one INSERT."""

    @property
    def engine(self) -> AsyncEngine: ...


@dataclass(frozen=True, slots=True)
class Judgement:
    """One coded order as the rules judged it (`pa` None: not covered, so nothing to authorize)."""

    determination: Determination
    routing: Routing | None
    pa: str | None
    npis: tuple[str, ...]


def judged(
    deps: RequirementsDeps, payer_id: str, orders: list[Order], prefetch: dict[str, Any], now: datetime
) -> list[Judgement | None]:
    """Each order's judgement, in order (None for an order without a code)."""
    payer_rules = deps.coverage.current.for_payer(payer_id)
    programs = deps.programs.for_payer(payer_id)
    born = birth_date(prefetch)
    judgements: list[Judgement | None] = []
    for order in orders:
        item = order.item
        if item is None:
            judgements.append(None)
            continue
        day = item.serviced.start if item.serviced and item.serviced.start else now.date()
        npis = provider_npis(order.resource, prefetch)
        facts = ItemFacts(
            item=item,
            service_date=day,
            diagnosis_codes=diagnosis_codes(order.resource),
            age=age_on(born, day),
            provider_npis=npis,
            state=provider_state(order.resource, prefetch),
        )
        determination = programs.exempt(evaluate(payer_rules, facts), facts)
        routing = programs.routing_for(facts) if determination.settled is None else None
        if routing is not None:
            determination = replace(determination, reason=routed_reason(determination.reason, routing))
        pa = None if determination.covered == "not-covered" else determination.pa_needed
        judgements.append(Judgement(determination, routing, pa, npis))
    return judgements


async def satisfied_by(
    deps: RequirementsDeps,
    principal: Principal,
    member: Identifier,
    orders: list[Order],
    judgements: list[Judgement | None],
    now: datetime,
) -> list[str | None]:
    """For each order, the active authorization (its payer reference, else its id) that already grants it."""
    found: list[str | None] = [None] * len(orders)
    wanted = [
        (n, order.item)
        for n, (order, judgement) in enumerate(zip(orders, judgements, strict=True))
        if judgement is not None and judgement.pa in _LOOKED_UP and order.item is not None
    ]
    if not wanted:
        return found
    async with deps.sessions() as session:  # a read: closed (rolled back) before the answer's INSERT
        for n, item in wanted:
            code = item.product_or_service.code
            active = await active_authorization_for(
                session, principal.client_id, member.value, code, item.serviced, now=now
            )
            if active is not None:
                found[n] = active.preauth_ref or str(active.id)
    return found
