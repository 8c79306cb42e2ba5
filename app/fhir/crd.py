"""CRD (Da Vinci CRD 2.2.1, and 2.0.1 callers, over CDS Hooks 2.0) in FHIR terms: orders and coverage out of
a hook request, and the coverage-information extension, systemActions and cards back. Plain dicts, no models.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Final

from app.domain.model import Coding, Identifier, Period, ServiceItem
from app.fhir import urls
from app.fhir.coverage_facts import address_state
from app.fhir.elements import (
    as_decimal,
    as_dict,
    as_list,
    as_str,
    codings,
    first_coding,
    identifier,
    identifiers,
    parse_date,
)
from app.fhir.extract import member_id

CARD_TYPES: Final = "http://terminology.hl7.org/CodeSystem/cdshooks-card-type"
"""The card-type code system of CRD 2.2.1 (`source.topic.system`)."""
CARD_TYPES_2_0_1: Final = "http://hl7.org/fhir/us/davinci-crd/CodeSystem/temp"
"""Where CRD 2.0.1 kept its card types (answered to callers that say they speak 2.0.1)."""
_DOC_NEEDED = {"clinical": ("clinical",), "admin": ("admin",), "both": ("clinical", "admin")}
_DOC_NEEDED_2_0_1 = {"clinical": ("clinical",), "admin": ("admin",), "both": ("clinical",)}
"""CRD 2.0.1 allows one doc-needed: `both` is answered as `clinical` (the reason text names both)."""
ORDER_TYPES = frozenset(
    {
        "ServiceRequest",
        "DeviceRequest",
        "MedicationRequest",
        "NutritionOrder",
        "VisionPrescription",
        "CommunicationRequest",
        "Appointment",
    }
)
_CODE_ELEMENTS = ("code", "codeCodeableConcept", "medicationCodeableConcept", "serviceType", "appointmentType")


UNCODED_INFO_NEEDED: Final = ("detail-code",)
"""What a `conditional` answer to an order without a code waits for (CRD 2.2.1 informationNeeded)."""


@dataclass(frozen=True, slots=True)
class Order:
    """One order (or appointment) of a hook, with what coverage evaluation needs (`item` None: no code)."""

    resource: dict[str, Any]
    item: ServiceItem | None
    reference: str


@dataclass(frozen=True, slots=True)
class HookCoverage:
    """The patient's Coverage from prefetch: its reference, member id and payor identifiers."""

    reference: str
    member_id: Identifier | None
    payor: tuple[Identifier, ...]
    period: Period | None


def _resources(node: Any) -> Iterator[dict[str, Any]]:
    """Every resource in a prefetch value, context Bundle or list (Bundles opened one level)."""
    for value in as_list(node) if isinstance(node, list) else [node]:
        resource = as_dict(value)
        if resource.get("resourceType") == "Bundle":
            for entry in as_list(resource.get("entry")):
                inner = as_dict(as_dict(entry).get("resource"))
                if inner:
                    yield inner
        elif resource.get("resourceType"):
            yield resource


def prefetched(prefetch: dict[str, Any]) -> list[dict[str, Any]]:
    """All resources the EHR prefetched, whatever their keys."""
    return [resource for value in prefetch.values() for resource in _resources(value)]


def _code(resource: dict[str, Any]) -> Coding | None:
    for element in _CODE_ELEMENTS:
        value = resource.get(element)
        concept = as_list(value)[0] if isinstance(value, list) and value else value
        found = first_coding(concept)
        if found is not None:
            return found
    return None


def _when(resource: dict[str, Any]) -> date | None:
    for key in ("occurrenceDateTime", "authoredOn", "start", "dispenseRequest"):
        found = parse_date(resource.get(key))
        if found is not None:
            return found
    period = as_dict(resource.get("occurrencePeriod")) or as_dict(resource.get("requestedPeriod"))
    return parse_date(period.get("start"))


def _quantity(resource: dict[str, Any]) -> Decimal | None:
    quantity = as_dict(resource.get("quantityQuantity")) or as_dict(
        as_dict(resource.get("dispenseRequest")).get("quantity")
    )
    return as_decimal(quantity.get("value"))


def order_of(resource: dict[str, Any], sequence: int) -> Order | None:
    """The order with its ServiceItem (None for a resource that is not an order; an order without a code has
    no item: CRD still answers it, with coverage-information that asks for the code)."""
    if resource.get("resourceType") not in ORDER_TYPES:
        return None
    reference = f"{resource.get('resourceType')}/{resource.get('id')}"
    code = _code(resource)
    if code is None:
        return Order(resource, None, reference)
    day = _when(resource)
    item = ServiceItem(
        sequence=sequence,
        product_or_service=code,
        quantity=_quantity(resource),
        serviced=Period(day, day) if day else None,
        place_of_service=first_coding(
            as_list(resource.get("locationCode"))[0] if resource.get("locationCode") else None
        ),
    )
    return Order(resource, item, reference)


def diagnosis_codes(resource: dict[str, Any]) -> tuple[str, ...]:
    """ICD-10-CM codes of the order's reasonCode."""
    return tuple(
        c.code
        for concept in as_list(resource.get("reasonCode"))
        for c in codings(concept)
        if c.system == urls.ICD_10_CM
    )


def _references(value: Any) -> set[str]:
    """`Type/id` references given as a string, a list of strings or Reference objects."""
    found: set[str] = set()
    for item in value if isinstance(value, list) else [value]:
        reference = item if isinstance(item, str) else as_str(as_dict(item).get("reference"))
        if reference:
            found.add(reference)
    return found


def _key(resource: dict[str, Any]) -> str:
    return f"{resource.get('resourceType')}/{resource.get('id')}"


def _dispatched(context: dict[str, Any], prefetch: dict[str, Any]) -> list[dict[str, Any]]:
    """order-dispatch: `dispatchedOrders` (hook 1.0 of CDS Hooks 2.0 as CRD 2.2.1 profiles it), or the
    earlier `order` (with `task` and `performer`), resolved against prefetch and any Task's `focus`."""
    wanted = _references(context.get("dispatchedOrders")) | _references(context.get("order"))
    for task in _resources(context.get("task")):
        wanted |= _references(task.get("focus"))
    return [r for r in prefetched(prefetch) if r.get("resourceType") in ORDER_TYPES and _key(r) in wanted]


def _discharge_orders(context: dict[str, Any], prefetch: dict[str, Any]) -> list[dict[str, Any]]:
    """encounter-discharge: the orders prefetched for discharge planning (of this encounter when they say)."""
    encounter = f"Encounter/{context.get('encounterId')}"
    found = []
    for resource in prefetched(prefetch):
        if resource.get("resourceType") not in ORDER_TYPES or resource.get("resourceType") == "Appointment":
            continue
        linked = _references(resource.get("encounter"))
        if not linked or encounter in linked:
            found.append(resource)
    return found


def hook_orders(hook: str, context: dict[str, Any], prefetch: dict[str, Any]) -> list[Order]:
    """The orders a hook is about: draft orders (order-select: only the selected ones), appointments,
    the dispatched orders or the discharge orders (found in prefetch)."""
    if hook in ("order-sign", "order-select"):
        candidates = list(_resources(context.get("draftOrders")))
        if hook == "order-select":
            selected = {s for s in as_list(context.get("selections")) if isinstance(s, str)}
            candidates = [r for r in candidates if _key(r) in selected]
    elif hook == "appointment-book":
        candidates = list(_resources(context.get("appointments")))
    elif hook == "order-dispatch":
        candidates = _dispatched(context, prefetch)
    elif hook == "encounter-discharge":
        candidates = _discharge_orders(context, prefetch)
    else:
        candidates = []
    orders = (order_of(resource, n) for n, resource in enumerate(candidates, 1))
    return [order for order in orders if order is not None]


def hook_coverage(prefetch: dict[str, Any]) -> HookCoverage | None:
    """The first active Coverage in prefetch (with its payor identifiers), or None."""
    resources = prefetched(prefetch)
    organizations = {f"Organization/{r.get('id')}": r for r in resources if r.get("resourceType") == "Organization"}
    for coverage in resources:
        if coverage.get("resourceType") != "Coverage" or coverage.get("status") not in (None, "active"):
            continue
        payor: list[Identifier] = []
        for reference in as_list(coverage.get("payor")):
            reference = as_dict(reference)
            found = identifier(reference.get("identifier"))
            if found is not None:
                payor.append(found)
            organization = organizations.get(as_str(reference.get("reference")) or "")
            payor += identifiers((organization or {}).get("identifier"))
        period = as_dict(coverage.get("period"))
        return HookCoverage(
            reference=f"Coverage/{coverage.get('id')}",
            member_id=member_id(coverage),
            payor=tuple(payor),
            period=Period(parse_date(period.get("start")), parse_date(period.get("end"))) if period else None,
        )
    return None


def info_needed(order: Order, npis: tuple[str, ...]) -> tuple[str, ...]:
    """What a `conditional` answer waits for (CRD informationNeeded codes): who, where and when, as missing;
    the code itself for an order without one."""
    if order.item is None:
        return UNCODED_INFO_NEEDED
    needed = [
        code
        for code, missing in (
            ("performer", not npis),
            ("location", order.item.place_of_service is None),
            ("timeframe", order.item.serviced is None),
        )
        if missing
    ]
    return tuple(needed) or ("performer",)


def coverage_information(
    *,
    coverage_reference: str,
    covered: str,
    pa_needed: str | None,
    doc_needed: str | None,
    reason: str | None,
    day: date,
    assertion_id: str,
    satisfied_pa_id: str | None,
    info_needed: tuple[str, ...] = (),
    single_doc_needed: bool = False,
    questionnaires: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The CRD ext-coverage-information extension (satisfied-pa-id exactly when pa-needed is `satisfied`).

    `questionnaires` (DTR canonicals, url|version) are written with a `doc-needed` answer only.

    `doc_needed` may be the rules' `both`, written as the two 2.2.1 codes `clinical` and `admin`, or
    (`single_doc_needed`, CRD 2.0.1 shapes) as one `clinical`;
    `info_needed` is written only on a `conditional` answer (covered or pa-needed), where 2.2.1 needs it.
    """
    parts: list[dict[str, Any]] = [
        {"url": "coverage", "valueReference": {"reference": coverage_reference}},
        {"url": "covered", "valueCode": covered},
    ]
    if pa_needed is not None:
        parts.append({"url": "pa-needed", "valueCode": pa_needed})
    for code in (_DOC_NEEDED_2_0_1 if single_doc_needed else _DOC_NEEDED).get(doc_needed or "", ()):
        parts.append({"url": "doc-needed", "valueCode": code})
    if doc_needed:
        parts += [{"url": "questionnaire", "valueCanonical": canonical} for canonical in questionnaires]
    if "conditional" in (covered, pa_needed):
        parts += [{"url": "info-needed", "valueCode": code} for code in info_needed or ("performer",)]
    if reason:
        parts.append({"url": "reason", "valueCodeableConcept": {"text": reason}})
    parts.append({"url": "date", "valueDate": day.isoformat()})
    parts.append({"url": urls.CRD_COVERAGE_ASSERTION_ID, "valueString": assertion_id})
    if pa_needed == "satisfied" and satisfied_pa_id:
        parts.append({"url": "satisfied-pa-id", "valueString": satisfied_pa_id})
    return {"url": urls.EXT_CRD_COVERAGE_INFORMATION, "extension": parts}


DISCHARGE: Final = "encounter-discharge"


def hook_encounter(context: dict[str, Any], prefetch: dict[str, Any]) -> dict[str, Any]:
    """The Encounter a hook is about: the prefetched one with the context's encounterId, else a reference stub."""
    wanted = context.get("encounterId")
    for resource in prefetched(prefetch):
        if resource.get("resourceType") == "Encounter" and resource.get("id") == wanted:
            return resource
    return {"resourceType": "Encounter", "id": wanted}


def encounter_action(encounter: dict[str, Any], extensions: list[dict[str, Any]]) -> dict[str, Any]:
    """encounter-discharge's `update` systemAction: the Encounter (the resource the hook is about) with one
    coverage-information extension per discharge order, instead of annotating the orders themselves."""
    kept = [
        e for e in as_list(encounter.get("extension")) if as_dict(e).get("url") != urls.EXT_CRD_COVERAGE_INFORMATION
    ]
    resource = {**encounter, "extension": [*kept, *extensions]}  # a new top level; the request's dicts untouched
    description = f"Coverage information for the discharge orders of Encounter/{resource.get('id')}"
    return {"type": "update", "description": description, "resource": resource}


def update_action(order: dict[str, Any], extension: dict[str, Any], description: str) -> dict[str, Any]:
    """A CDS Hooks `update` systemAction: the order with the coverage-information extension added."""
    kept = [e for e in as_list(order.get("extension")) if as_dict(e).get("url") != urls.EXT_CRD_COVERAGE_INFORMATION]
    resource = {**order, "extension": [*kept, extension]}  # a new top level; the request's dicts untouched
    return {"type": "update", "description": description, "resource": resource}


def card(
    summary: str,
    *,
    card_type: str,
    label: str,
    detail: str | None = None,
    indicator: str = "info",
    links: list[dict[str, str]] | None = None,
    topic_system: str = CARD_TYPES,
) -> dict[str, Any]:
    """A CDS Hooks card with source.label and source.topic (a CRD card type); summary cut to 139 characters."""
    body: dict[str, Any] = {
        "uuid": str(uuid.uuid4()),
        "summary": summary if len(summary) < 140 else summary[:136] + "...",
        "indicator": indicator,
        "source": {"label": label, "topic": {"system": topic_system, "code": card_type, "display": card_type}},
    }
    if detail:
        body["detail"] = detail
    if links:
        body["links"] = [{**link, "type": "absolute"} for link in links]
    return body


def provider_npis(order: dict[str, Any], prefetch: dict[str, Any]) -> tuple[str, ...]:
    """NPIs of the order's performer and requester when prefetch holds them (Practitioner or PractitionerRole)."""
    resources = {f"{r.get('resourceType')}/{r.get('id')}": r for r in prefetched(prefetch)}
    references = [as_dict(order.get("requester")), *(as_dict(p) for p in as_list(order.get("performer")))]
    found: list[str] = []
    for reference in references:
        resource = resources.get(as_str(reference.get("reference")) or "") or {}
        if resource.get("resourceType") == "PractitionerRole":
            found += [i.value for i in identifiers(resource.get("identifier")) if i.system == urls.NPI]
            resource = resources.get(as_str(as_dict(resource.get("practitioner")).get("reference")) or "") or {}
        found += [i.value for i in identifiers(resource.get("identifier")) if i.system == urls.NPI]
    return tuple(dict.fromkeys(found))


def birth_date(prefetch: dict[str, Any]) -> date | None:
    """The prefetched Patient's birth date."""
    for resource in prefetched(prefetch):
        if resource.get("resourceType") == "Patient":
            return parse_date(resource.get("birthDate"))
    return None


def provider_state(order: dict[str, Any], prefetch: dict[str, Any]) -> str | None:
    """Where the ordering provider practises (as app.fhir.coverage_facts.service_state does for $submit): the
    address state of the order's requester (a PractitionerRole's own, then its organization's), else of the
    prefetched Patient."""
    resources = {f"{r.get('resourceType')}/{r.get('id')}": r for r in prefetched(prefetch)}
    requester = resources.get(as_str(as_dict(order.get("requester")).get("reference")) or "")
    candidates = [requester]
    if requester is not None and requester.get("resourceType") == "PractitionerRole":
        candidates.append(resources.get(as_str(as_dict(requester.get("organization")).get("reference")) or ""))
    candidates += [r for r in prefetched(prefetch) if r.get("resourceType") == "Patient"]
    for resource in candidates:
        state = address_state(resource)
        if state is not None:
            return state
    return None
