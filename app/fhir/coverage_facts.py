"""Coverage facts of a PAS request Bundle (for app.coverage): coverage period, birth date, documents, referrals.

Also the CRD links a request carries: `satisfied-pa-id` of the coverage-information extension
(its `coverage-assertion-id` is read by app.fhir.extract into PriorAuthRequest).
"""

from __future__ import annotations

from typing import Any

from app.domain.facts import BundleFacts
from app.fhir import urls
from app.fhir.elements import as_dict, as_list, as_str, codings, extensions, parse_date, parse_period
from app.fhir.extract import focal_coverage
from app.fhir.references import BundleIndex

CRD_SATISFIED_PA_ID = "satisfied-pa-id"
DOCUMENT_RESOURCES = frozenset({"DocumentReference", "QuestionnaireResponse", "Binary", "Observation"})


def _document_codes(claim: dict[str, Any], index: BundleIndex) -> frozenset[str]:
    found: set[str] = set()
    for info in as_list(claim.get("supportingInfo")):
        info = as_dict(info)
        found |= {c.code for c in codings(info.get("category"))}
        found |= {c.code for c in codings(info.get("code"))}
    for _, resource in index.entries[1:]:
        kind = resource.get("resourceType")
        if kind in DOCUMENT_RESOURCES:
            found.add(str(kind))
            found |= {c.code for c in codings(resource.get("type"))}
            for category in as_list(resource.get("category")):
                found |= {c.code for c in codings(category)}
    return frozenset(found)


def _specialties(claim: dict[str, Any], index: BundleIndex) -> tuple[str, ...]:
    found: list[str] = []
    for member in as_list(claim.get("careTeam")):
        provider = index.resolve_ref(as_dict(member).get("provider"), 0) or {}
        for specialty in as_list(provider.get("specialty")):
            found += [c.code for c in codings(specialty) if c.code not in found]
    return tuple(found)


def satisfied_pa_ids(claim: dict[str, Any], index: BundleIndex) -> tuple[str, ...]:
    """Every CRD `satisfied-pa-id` on the Claim, its items or the other resources of the Bundle."""
    holders: list[Any] = [claim, *as_list(claim.get("item"))] + [r for _, r in index.entries[1:]]
    found: list[str] = []
    for holder in holders:
        for info in extensions(holder, urls.EXT_CRD_COVERAGE_INFORMATION):
            for part in extensions(info, CRD_SATISFIED_PA_ID):
                value = as_str(part.get("valueString"))
                if value is not None and value not in found:
                    found.append(value)
    return tuple(found)


def address_state(resource: dict[str, Any] | None) -> str | None:
    """The first two-letter `address.state` of a resource (upper-cased), else None."""
    for address in as_list((resource or {}).get("address")):
        state = as_str(as_dict(address).get("state"))
        if state is not None and len(state.strip()) == 2 and state.strip().isalpha():
            return state.strip().upper()
    return None


def service_state(claim: dict[str, Any], index: BundleIndex) -> str | None:
    """Where the provider practises, for state exemptions, routing and clocks: the address state of the
    requesting provider (Claim.provider; a PractitionerRole's organization or location after its own),
    then of Claim.facility, then of the patient."""
    provider = index.resolve_ref(claim.get("provider"), 0)
    candidates: list[dict[str, Any] | None] = [provider]
    if provider is not None and provider.get("resourceType") == "PractitionerRole":
        candidates.append(index.resolve_ref(provider.get("organization"), 0))
        candidates += [index.resolve_ref(location, 0) for location in as_list(provider.get("location"))]
    candidates.append(index.resolve_ref(claim.get("facility"), 0))
    candidates.append(index.resolve_ref(claim.get("patient"), 0))
    for resource in candidates:
        state = address_state(resource)
        if state is not None:
            return state
    return None


def bundle_facts(bundle: dict[str, Any], index: BundleIndex | None = None) -> BundleFacts:
    """The coverage facts of a validated PAS request Bundle (Claim first); `index`: its references, when the
    caller resolved them already."""
    index = index if index is not None else BundleIndex(bundle)
    if not index.entries:
        return BundleFacts()
    claim = index.entries[0][1]
    coverage = focal_coverage(claim, index)
    patient = index.resolve_ref(claim.get("patient"), 0) or {}
    refs = [
        ref
        for insurance in as_list(claim.get("insurance"))
        for ref in as_list(as_dict(insurance).get("preAuthRef"))
        if as_str(ref) is not None
    ]
    return BundleFacts(
        coverage_period=parse_period(coverage.get("period")),
        birth_date=parse_date(patient.get("birthDate")),
        referral_present=bool(as_dict(claim.get("referral"))),
        document_codes=_document_codes(claim, index),
        preauth_refs=tuple(dict.fromkeys(refs)),
        satisfied_pa_ids=satisfied_pa_ids(claim, index),
        specialties=_specialties(claim, index),
        service_state=service_state(claim, index),
        plan_type=next((c.code for c in codings(coverage.get("type"))), None),
    )
