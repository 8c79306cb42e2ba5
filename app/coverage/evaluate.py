"""Evaluating one service item against a payer's rules: a pure function, table-tested.

    determination = evaluate(payer_rules, facts)

The first rule (in file order) whose codes or service types, effective dates and conditions all
match decides; then a gold card may lift the authorization requirement. No rule: the payer decides
(`covered` and `pa_needed` are `conditional`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from app.coverage.codes import CodeSpec, diagnosis_matches, system_matches
from app.coverage.drugs import is_drug
from app.coverage.format import Clocks, Conditions, Document, GoldCard, Rule, RulesFile
from app.domain.codes import AuthorizationKind, ReviewAction
from app.domain.model import ServiceItem

PaNeeded = Literal["auth-needed", "no-auth", "performpa", "conditional"]
GOLD_CARD = "gold-card"
NO_RULE_REASON = "no coverage rule for this service: the payer decides"


@dataclass(frozen=True, slots=True)
class ItemFacts:
    """What evaluation needs to know about one item and its request."""

    item: ServiceItem
    service_date: date
    diagnosis_codes: tuple[str, ...] = ()
    age: int | None = None
    provider_npis: tuple[str, ...] = ()  # performing provider first, then the requesting one
    specialties: tuple[str, ...] = ()
    kind: AuthorizationKind = AuthorizationKind.PRIOR
    state: str | None = None  # USPS state of the provider (BundleFacts.service_state)
    plan_type: str | None = None  # Coverage.type code (BundleFacts.plan_type)


CANDIDATES_KEPT = 4096
"""How many item codes a payer's rules remember the candidate rules of (codes come from requests, so the
memo is bounded; a code beyond it is worked out again on each call, with the same answer)."""


@dataclass(frozen=True, slots=True)
class PayerRules:
    """A payer's rules as loaded (immutable), with where they came from.

    It remembers, per item code, which rules can match at all (a code spec containing the code, or service
    types); the memo belongs to this snapshot, so a reload, which builds new PayerRules, starts afresh."""

    payer_id: str
    source: str
    rules: RulesFile
    specs: tuple[tuple[CodeSpec, ...], ...] = field(default=())
    _candidates: dict[str, tuple[int, ...]] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def of(cls, payer_id: str, source: str, rules: RulesFile) -> PayerRules:
        return cls(payer_id, source, rules, tuple(rule.code_specs for rule in rules.rule))

    def candidates(self, code: str) -> tuple[int, ...]:
        """The positions (file order) of the rules that can match an item coded `code`: those with a code
        spec containing it, and those written for service types (matched by the item's category instead)."""
        found = self._candidates.get(code)
        if found is None:
            found = tuple(
                n
                for n, (rule, specs) in enumerate(zip(self.rules.rule, self.specs, strict=True))
                if rule.service_types or any(spec.contains(code) for spec in specs)
            )
            if len(self._candidates) < CANDIDATES_KEPT:
                self._candidates[code] = found
        return found


@dataclass(frozen=True, slots=True)
class Determination:
    """What the rules say about one item (the basis of NA/A3 in $submit and of CRD coverage-information)."""

    sequence: int
    covered: Literal["covered", "not-covered", "conditional"]
    pa_needed: PaNeeded
    rule_id: str | None = None
    program: str | None = None
    documentation: tuple[Document, ...] = ()
    referral: bool = False
    reason: str | None = None
    reason_code: str | None = None
    gold_card: bool = False
    info_url: str | None = None
    clocks: Clocks = field(default_factory=Clocks)
    version: str | None = None
    exemption: str | None = None  # id of the registry exemption that lifted the requirement
    drug: bool = False  # timed by the drug clocks (app.coverage.drugs)
    questionnaire: tuple[str, ...] = ()  # DTR questionnaires (url|version) documenting the item

    @property
    def settled(self) -> ReviewAction | None:
        """The decision the rules make without the payer: A3 not covered, NA no authorization needed."""
        if self.covered == "not-covered":
            return ReviewAction.NOT_CERTIFIED
        if self.pa_needed == "no-auth":
            return ReviewAction.NO_ACTION_REQUIRED
        return None

    @property
    def doc_needed(self) -> Literal["clinical", "admin", "both"] | None:
        kinds = {d.kind for d in self.documentation}
        if not kinds:
            return None
        if kinds == {"clinical"}:
            return "clinical"
        return "admin" if kinds == {"administrative"} else "both"


def _in_effect(start: date | None, end: date | None, day: date) -> bool:
    return (start is None or start <= day) and (end is None or day <= end)


def conditions_hold(when: Conditions, facts: ItemFacts, in_network: tuple[str, ...]) -> bool:
    """Whether every condition given in `when` holds for the item."""
    item = facts.item
    if when.place_of_service and (
        item.place_of_service is None or item.place_of_service.code not in when.place_of_service
    ):
        return False
    if when.diagnosis and not diagnosis_matches(when.diagnosis, facts.diagnosis_codes):
        return False
    if when.quantity_over is not None and (item.quantity is None or item.quantity <= when.quantity_over):
        return False
    if when.network is not None:
        if not facts.provider_npis:
            return False
        inside = any(npi in in_network for npi in facts.provider_npis)
        if inside != (when.network == "in"):
            return False
    if when.age_min is not None and (facts.age is None or facts.age < when.age_min):
        return False
    if when.age_max is not None and (facts.age is None or facts.age > when.age_max):
        return False
    if when.kinds and facts.kind not in when.kinds:
        return False
    return not (when.specialty and not set(when.specialty) & set(facts.specialties))


def rule_matches(rule: Rule, specs: tuple[CodeSpec, ...], facts: ItemFacts, in_network: tuple[str, ...]) -> bool:
    """Whether `rule` applies to the item: its codes (or service type), effective dates and conditions."""
    item = facts.item
    by_code = system_matches(rule.system, item.product_or_service.system) and any(
        spec.contains(item.product_or_service.code) for spec in specs
    )
    by_type = item.category is not None and item.category.code in rule.service_types
    if not (by_code or by_type):
        return False
    if not _in_effect(rule.effective_from, rule.effective_to, facts.service_date):
        return False
    return conditions_hold(rule.when, facts, in_network)


def gold_card_for(cards: tuple[GoldCard, ...], facts: ItemFacts) -> GoldCard | None:
    """The gold card exempting one of the item's providers for its code on its service date, if any."""
    code = facts.item.product_or_service.code
    for card in cards:
        if (
            card.npi in facts.provider_npis
            and _in_effect(card.effective_from, card.effective_to, facts.service_date)
            and any(spec.contains(code) for spec in card.code_specs)
        ):
            return card
    return None


def _merged_clocks(top: Clocks, under: Clocks) -> Clocks:
    """`top`'s clocks, each one it does not give taken from `under`."""
    merged = {name: getattr(top, name) for name in Clocks.model_fields if getattr(top, name) is not None}
    return under.model_copy(update=merged)


def base_clocks(book: RulesFile, facts: ItemFacts) -> Clocks:
    """The payer's `[defaults]`, under the first `[[state_clocks]]` naming the provider's state."""
    state = next((s for s in book.state_clocks if facts.state is not None and facts.state in s.states), None)
    return book.defaults if state is None else _merged_clocks(state, book.defaults)


def drug_timed(book: RulesFile | None, facts: ItemFacts) -> bool:
    """Whether the item gets the drug clocks: a drug, unless its plan type is exempt from them."""
    if not is_drug(facts.item):
        return False
    return book is None or facts.plan_type is None or facts.plan_type not in book.drug_clock_exempt_plan_types


_PA: dict[str, PaNeeded] = {"required": "auth-needed", "not-required": "no-auth", "performing-provider": "performpa"}


def evaluate(payer: PayerRules | None, facts: ItemFacts) -> Determination:
    """What `payer`'s rules say about the item (a payer without rules: the payer decides)."""
    sequence = facts.item.sequence
    if payer is None:
        return Determination(
            sequence, "conditional", "conditional", reason=NO_RULE_REASON, drug=drug_timed(None, facts)
        )
    book = payer.rules
    base = base_clocks(book, facts)
    drug = drug_timed(book, facts)
    for n in payer.candidates(facts.item.product_or_service.code):
        rule, specs = book.rule[n], payer.specs[n]
        if not rule_matches(rule, specs, facts, book.in_network):
            continue
        pa = _PA[rule.authorization]
        reason = rule.reason
        card = gold_card_for(book.gold_card, facts) if pa in ("auth-needed", "performpa") else None
        if card is not None:
            pa, reason = "no-auth", f"{GOLD_CARD}: {card.note or 'the provider is exempt from prior authorization'}"
        return Determination(
            sequence,
            covered=rule.coverage,
            pa_needed=pa if rule.coverage != "not-covered" else "no-auth",
            rule_id=rule.id,
            program=rule.program,
            documentation=rule.documentation if rule.coverage != "not-covered" else (),
            referral=rule.referral,
            reason=reason,
            reason_code=rule.reason_code,
            gold_card=card is not None,
            info_url=rule.info_url,
            clocks=_merged_clocks(rule, base),
            version=book.version,
            drug=drug,
            questionnaire=rule.questionnaire if rule.coverage != "not-covered" else (),
        )
    return Determination(
        sequence, "conditional", "conditional", reason=NO_RULE_REASON, clocks=base, version=book.version, drug=drug
    )
