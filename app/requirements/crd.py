"""CRD (Da Vinci CRD 2.2.1, 2.0.1 callers accepted) as CDS Hooks 2.0 services: discovery and hook answers.

Primary hooks (order-sign, appointment-book, order-dispatch) answer one Coverage Information
systemAction per order (`update`, the order with ext-coverage-information pointing at the
prefetched Coverage), an Instructions card, and an External Reference card per rule that links
documentation. encounter-discharge annotates the Encounter it is about (one `update` of the
Encounter carrying one coverage-information per discharge order) and, being a secondary hook,
never asks for clinical or administrative documentation (no doc-needed). An order without a code
is answered too: covered and pa-needed
`conditional`, `info-needed` `detail-code` (the rules cannot judge a service that is not named).
order-select answers the same cards without systemActions; encounter-start answers no cards.
A malformed context, or no active Coverage (with a member id) in prefetch, or no payer for it,
is refused with 400 and an OperationOutcome; never a 500.
Each coverage-assertion-id is stored, so a later `$submit` carrying it is linked to it.
Versions and options (app.fhir.crd_versions): a request for CRD 2.2 is answered in 2.2.1 shapes
(card types in the HL7 code system, repeating doc-needed); a request naming no version, or 2.0,
in 2.0.1 shapes (card types in CRD's `temp` code system, one doc-needed). The request's
`davinci-crd.configuration` can turn off Coverage Information, the Instructions card or the links.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.domain import bounds
from app.domain.model import Identifier
from app.errors import InvalidRequest, Issue, NotFound
from app.fhir.crd import (
    CARD_TYPES,
    CARD_TYPES_2_0_1,
    DISCHARGE,
    HookCoverage,
    Order,
    card,
    coverage_information,
    encounter_action,
    hook_coverage,
    hook_encounter,
    hook_orders,
    info_needed,
    update_action,
)
from app.fhir.crd_hooks import CRD_VERSION, HOOKS, check_context
from app.fhir.crd_versions import (
    COVERAGE_INFO,
    CRD_2_0,
    EXTERNAL_REFERENCE,
    INSTRUCTIONS,
    configuration,
    declared_extension,
    requested_version,
)
from app.fhir.elements import as_dict
from app.payers.registry import NoPayerMatches
from app.requirements.crd_cards import SOURCE_LABEL, instructions, order_line
from app.requirements.crd_judge import HookDeps, judged, satisfied_by
from app.requirements.repository import add_assertions
from app.security.principal import Principal


@dataclass(frozen=True, slots=True)
class CdsService:
    id: str
    hook: str
    title: str
    primary: bool


SERVICES = {
    s.id: s
    for s in (
        CdsService("crd-order-sign", "order-sign", "Coverage requirements of signed orders", True),
        CdsService("crd-order-select", "order-select", "Coverage requirements of selected orders", False),
        CdsService("crd-appointment-book", "appointment-book", "Coverage requirements of booked appointments", True),
        CdsService("crd-order-dispatch", "order-dispatch", "Coverage requirements of dispatched orders", True),
        CdsService("crd-encounter-start", "encounter-start", "Coverage check at the start of an encounter", False),
        CdsService(
            "crd-encounter-discharge",
            "encounter-discharge",
            "Coverage requirements of discharge orders (home health, DME, post-acute care)",
            True,
        ),
    )
}


def discovery() -> dict[str, Any]:
    """The CDS Hooks discovery document; each service declares the CRD versions and configuration options."""
    return {
        "services": [
            {
                "hook": s.hook,
                "id": s.id,
                "title": s.title,
                "description": f"Da Vinci CRD {CRD_VERSION}: {s.title.lower()} from the payer's coverage rules.",
                "prefetch": HOOKS[s.hook].templates(),
                "extension": declared_extension(),
            }
            for s in SERVICES.values()
        ]
    }


def coverage_not_found(why: str) -> InvalidRequest:
    """The refusal when the patient's coverage, member or payer is unknown (CRD 2.2.1: 400, OperationOutcome)."""
    text = f"Coverage not found: {why}. Send the patient's active Coverage (with the member id) in prefetch `coverage`."
    return InvalidRequest(text, issues=[Issue(text=text, code="not-found", expression="prefetch.coverage")])


async def answer_hook(deps: HookDeps, principal: Principal, service_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """The CDS Hooks response for one call of a CRD service."""
    service = SERVICES.get(service_id)
    if service is None:
        raise NotFound(f"no CDS service {service_id!r}")
    if body.get("hook") != service.hook:
        raise InvalidRequest(
            f"service {service_id} answers hook {service.hook}",
            issues=[Issue(f"not {service.hook}", expression="hook")],
        )
    if not isinstance(body.get("hookInstance"), str):
        raise InvalidRequest(
            "a hookInstance is required",
            issues=[Issue("a hookInstance is required", "required", expression="hookInstance")],
        )
    version = requested_version(body)
    context = check_context(service.hook, body.get("context"))
    prefetch = as_dict(body.get("prefetch"))
    coverage = hook_coverage(prefetch)
    if coverage is None or coverage.member_id is None:
        raise coverage_not_found("no active Coverage with a member id was prefetched")
    try:
        entry = deps.payers.route((), coverage.payor)
    except NoPayerMatches:
        raise coverage_not_found("no payer is configured for the Coverage's payor") from None
    orders = hook_orders(service.hook, context, prefetch)
    if not orders:
        return {"cards": [], **({"systemActions": []} if service.primary else {})}
    encounter = hook_encounter(context, prefetch) if service.hook == DISCHARGE else None
    answer = _Answer(service, entry.id, coverage, coverage.member_id, version, configuration(body), encounter)
    return await _answer(deps, principal, answer, orders, prefetch)


@dataclass(frozen=True, slots=True)
class _Answer:
    service: CdsService
    payer_id: str
    coverage: HookCoverage
    member: Identifier
    version: str
    options: dict[str, bool]
    encounter: dict[str, Any] | None = None  # encounter-discharge: the Encounter its answer annotates

    @property
    def topic_system(self) -> str:
        return CARD_TYPES_2_0_1 if self.version == CRD_2_0 else CARD_TYPES

    @property
    def single_doc_needed(self) -> bool:
        return self.version == CRD_2_0


async def _answer(
    deps: HookDeps, principal: Principal, answer: _Answer, orders: list[Order], prefetch: dict[str, Any]
) -> dict[str, Any]:
    service, coverage = answer.service, answer.coverage
    now = deps.clock()
    judgements = judged(deps, answer.payer_id, orders, prefetch, now)
    satisfied = await satisfied_by(deps, principal, answer.member, orders, judgements, now)
    annotated: list[tuple[Order, dict[str, Any]]] = []
    lines: list[str] = []
    links: dict[str, str] = {}
    assertions: list[dict[str, Any]] = []
    for order, judgement, found in zip(orders, judgements, satisfied, strict=True):
        if order.item is None or judgement is None:
            assertion, extension, line = _uncoded(principal, answer, order, now)
            assertions.append(assertion)
            annotated.append((order, extension))
            lines.append(line)
            continue
        item, determination = order.item, judgement.determination
        pa = "satisfied" if found is not None else judgement.pa
        assertion_id = uuid.uuid4().hex
        # encounter-discharge, a secondary hook, never asks for clinical or administrative documentation
        documentation = None if answer.encounter is not None else determination.doc_needed
        assertions.append(
            _assertion_row(
                assertion_id,
                principal,
                answer,
                order,
                now,
                product_system=(item.product_or_service.system or "")[: bounds.CODE_SYSTEM_LENGTH] or None,
                product_code=item.product_or_service.code[: bounds.CODE_LENGTH],
                covered=determination.covered,
                pa_needed=pa,
                doc_needed=documentation,
                rule_id=determination.rule_id,
                rules_version=determination.version,
                satisfied_pa_id=found,
            )
        )
        extension = coverage_information(
            coverage_reference=coverage.reference,
            covered=determination.covered,
            pa_needed=pa,
            doc_needed=None if pa in (None, "no-auth", "satisfied") else documentation,
            reason=determination.reason,
            day=now.date(),
            assertion_id=assertion_id,
            satisfied_pa_id=found,
            info_needed=info_needed(order, judgement.npis),
            single_doc_needed=answer.single_doc_needed,
            questionnaires=determination.questionnaire,  # DTR (docs/dtr.md)
        )
        annotated.append((order, extension))
        lines.append(order_line(order, determination, pa, judgement.routing))
        if determination.info_url:
            links[determination.info_url] = determination.program or "Payer documentation requirements"
        if determination.questionnaire and (dtr := deps.payers.get(answer.payer_id).dtr_endpoint):
            links[dtr] = "The payer's DTR service (questionnaires for this order)"  # docs/dtr.md
    await add_assertions(deps.engine, assertions)
    cards = [instructions(lines, answer.topic_system)] if answer.options[INSTRUCTIONS] else []
    if not answer.options[EXTERNAL_REFERENCE]:
        links = {}
    cards += [
        card(
            label[:139],
            card_type="external-reference",
            label=SOURCE_LABEL,
            links=[{"label": label[:80], "url": url}],
            topic_system=answer.topic_system,
        )
        for url, label in links.items()
    ]
    if answer.encounter is not None:  # a secondary hook annotates the resource it is about, not the orders
        actions = [encounter_action(answer.encounter, [e for _, e in annotated])]
    else:
        actions = [update_action(o.resource, e, f"Coverage information for {o.reference}") for o, e in annotated]
    if not answer.options[COVERAGE_INFO]:
        actions = []
    return {"cards": cards, **({"systemActions": actions} if service.primary else {})}


_UNCODED = "coverage and prior authorization depend on the service ordered"


def _assertion_row(
    assertion_id: str, principal: Principal, answer: _Answer, order: Order, now: datetime, **values: Any
) -> dict[str, Any]:
    """One `coverage_assertions` row (what a later $submit links to), every column given."""
    return {
        "id": assertion_id,
        "client_id": principal.client_id,
        "payer_id": answer.payer_id,
        "hook": answer.service.hook,
        "order_reference": order.reference[: bounds.ORDER_REFERENCE_LENGTH],
        "product_system": None,
        "doc_needed": None,
        "rule_id": None,
        "rules_version": None,
        "satisfied_pa_id": None,
        "authorization_id": None,
        "linked_at": None,
        "created_at": now,
        **values,
    }


def _uncoded(
    principal: Principal, answer: _Answer, order: Order, now: datetime
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """An order without a code still gets its Coverage Information (CRD 2.2.1: one per order): covered and
    pa-needed `conditional`, `info-needed` asking for the code; its assertion is kept like any other."""
    assertion_id = uuid.uuid4().hex
    assertion = _assertion_row(
        assertion_id,
        principal,
        answer,
        order,
        now,
        product_code="",  # no code was ordered
        covered="conditional",
        pa_needed="conditional",
    )
    extension = coverage_information(
        coverage_reference=answer.coverage.reference,
        covered="conditional",
        pa_needed="conditional",
        doc_needed=None,
        reason=f"the order carries no code: {_UNCODED}",
        day=now.date(),
        assertion_id=assertion_id,
        satisfied_pa_id=None,
        info_needed=info_needed(order, ()),
    )
    return assertion, extension, f"{order.reference}: no code; {_UNCODED}"
