"""Which payer adapter a request goes to: the request's payer, or the review contractor a program names.

A program routing (app.coverage.programs, from the registry files) sends a request to the payer id
it names when one of the request's items that still needs a review (not settled by the coverage
rules or an exemption) falls under it for the request's payer, the provider's state and the
service date. The request's own payer's coverage rules and exemptions still apply: the contractor
reviews on that payer's behalf. Pure apart from reading the runtime's registries.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.authorizations.deps import RulesInForce
from app.coverage.evaluate import evaluate
from app.coverage.facts import item_facts
from app.coverage.program_format import Routing
from app.coverage.programs import PayerPrograms
from app.domain.facts import BundleFacts
from app.domain.model import PriorAuthRequest
from app.payers import PayerEntry


@dataclass(frozen=True, slots=True)
class PayerChoice:
    """Where a request goes (`entry`) and whose rules and exemptions apply (`rules_payer`)."""

    entry: PayerEntry
    rules_payer: str
    programs: PayerPrograms
    routing: Routing | None = None

    def detail(self) -> dict[str, object]:
        """What the `received` event says about the routing (nothing when the request was not routed)."""
        if self.routing is None:
            return {}
        routing = self.routing
        return {
            "routed": {
                "routing": routing.id,
                "program": routing.program,
                "contractor": routing.contractor,
                "from_payer": self.rules_payer,
                "source": routing.source,
            }
        }


def choose_payer(deps: RulesInForce, request: PriorAuthRequest, facts: BundleFacts) -> PayerChoice:
    """The request's payer (by insurer/payor), or the contractor of the first program that routes it."""
    origin = deps.payers.route(request.insurer, request.payor)
    programs = deps.programs.for_payer(origin.id)
    if not programs.routings or request.cancels_all:
        return PayerChoice(origin, origin.id, programs)
    rules = deps.coverage.current.for_payer(origin.id)
    open_items = []
    for item in request.items:
        if item.cancelled:
            continue
        per_item = item_facts(request, facts, item)
        if programs.exempt(evaluate(rules, per_item), per_item).settled is None:
            open_items.append(per_item)
    routing = programs.route(open_items)
    if routing is None:
        return PayerChoice(origin, origin.id, programs)
    return PayerChoice(deps.payers.get(routing.adapter), origin.id, programs, routing)
