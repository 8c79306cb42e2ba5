"""Exemptions and program routing from the registry files: pure matching, table-tested.

    programs = registry.for_payer(entry.id)
    determination = programs.exempt(evaluate(payer_rules, facts), facts)   # NA, the exemption cited
    routing = programs.routing_for(facts)                                 # the contractor's payer id

An exemption applies when one of the item's NPIs (performing first, then requesting) is listed,
its code is, the payer and the provider's state are (when the entry names any), and the service
date is within the entry's dates. It lifts an authorization requirement; it never makes a
not-covered service covered. A routing applies by code, payer, state and date.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date

from app.coverage.codes import CodeSpec, system_matches
from app.coverage.evaluate import Determination, ItemFacts
from app.coverage.program_format import Exemption, ProgramsFile, Routing, _Entry

_KIND_TEXT = {
    "state-gold-card": "state gold-card law",
    "payer-gold-card": "payer gold card",
    "cms-exemption": "CMS exemption",
}


def _in_effect(entry: _Entry, day: date) -> bool:
    return entry.effective_from <= day and (entry.effective_to is None or day <= entry.effective_to)


def _applies(entry: _Entry, specs: tuple[CodeSpec, ...], payer_id: str, facts: ItemFacts) -> bool:
    item = facts.item.product_or_service
    return (
        (not entry.payers or payer_id in entry.payers)
        and (not entry.states or facts.state in entry.states)
        and _in_effect(entry, facts.service_date)
        and system_matches(entry.system, item.system)
        and any(spec.contains(item.code) for spec in specs)
    )


def citation(exemption: Exemption) -> str:
    """The reason an exempt item carries: what kind of exemption, its source and id (under 300 characters)."""
    text = f"exempt from prior authorization ({_KIND_TEXT[exemption.kind]} {exemption.id}): {exemption.source}"
    if exemption.note:
        text += f"; {exemption.note}"
    return text[:300]


@dataclass(frozen=True, slots=True)
class PayerPrograms:
    """The exemptions and routings that can apply to one payer's requests."""

    payer_id: str
    exemptions: tuple[tuple[Exemption, tuple[CodeSpec, ...]], ...] = ()
    routings: tuple[tuple[Routing, tuple[CodeSpec, ...]], ...] = ()

    def exemption_for(self, facts: ItemFacts) -> Exemption | None:
        """The first exemption (file order) covering one of the item's providers for its code, if any."""
        for exemption, specs in self.exemptions:
            if set(exemption.npis) & set(facts.provider_npis) and _applies(exemption, specs, self.payer_id, facts):
                return exemption
        return None

    def exempt(self, determination: Determination, facts: ItemFacts) -> Determination:
        """`determination` with the requirement lifted (pa-needed no-auth, the exemption cited) when exempt."""
        if determination.covered == "not-covered" or determination.pa_needed == "no-auth":
            return determination
        exemption = self.exemption_for(facts)
        if exemption is None:
            return determination
        return replace(
            determination,
            pa_needed="no-auth",
            reason=citation(exemption),
            exemption=exemption.id,
            gold_card=exemption.kind != "cms-exemption",
            documentation=(),
        )

    def routing_for(self, facts: ItemFacts) -> Routing | None:
        """The first routing (file order) that sends this item to a review contractor, if any."""
        for routing, specs in self.routings:
            if _applies(routing, specs, self.payer_id, facts):
                return routing
        return None

    def route(self, items: Iterable[ItemFacts]) -> Routing | None:
        """The routing of a request: the first of its items (in order) that a program routes."""
        for facts in items:
            found = self.routing_for(facts)
            if found is not None:
                return found
        return None


NO_PROGRAMS = PayerPrograms("")


@dataclass(frozen=True, slots=True)
class ProgramRegistry:
    """Every registry file in force (never mutated), with where each came from."""

    files: tuple[tuple[str, ProgramsFile], ...] = ()
    adapter_lines: Mapping[str, int | None] = field(default_factory=dict)  # routing id -> line of its adapter
    # for_payer's answers (code specs parsed once per payer, not per CRD order or $submit)
    _by_payer: dict[str, PayerPrograms] = field(default_factory=dict, init=False, repr=False, compare=False)

    def for_payer(self, payer_id: str) -> PayerPrograms:
        found = self._by_payer.get(payer_id)
        if found is None:
            found = self._by_payer[payer_id] = self._programs_of(payer_id)
        return found

    def _programs_of(self, payer_id: str) -> PayerPrograms:
        exemptions = tuple(
            (e, e.code_specs) for _, f in self.files for e in f.exemption if not e.payers or payer_id in e.payers
        )
        routings = tuple(
            (r, r.code_specs) for _, f in self.files for r in f.routing if not r.payers or payer_id in r.payers
        )
        return PayerPrograms(payer_id, exemptions, routings)

    def summary(self) -> list[dict[str, object]]:
        return [
            {
                "source": name,
                "version": f.version,
                "sample": f.sample,
                "exemptions": len(f.exemption),
                "routings": len(f.routing),
            }
            for name, f in self.files
        ]
