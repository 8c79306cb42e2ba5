"""Domain objects from a validated PAS request Bundle (a dict that passed the rules).

Recognition of the authorization kind, in order of precedence:
concurrent (certificationType `4` extension or `R` renewal, X12 1322) > retrospective (a service
date before the Claim's created date) > referral (UM01 `SC` for an X12 1365 `3` consultation, as
the PAS referral examples send it) > specialty (other UM01 `SC`) > prior.
Priority is expedited for levelOfServiceCode `U` (urgent) or `03` (emergency), or Claim.priority `stat`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.domain.codes import AuthorizationKind, Priority
from app.domain.model import Coding, Diagnosis, Identifier, Period, PriorAuthRequest, ServiceItem
from app.fhir import urls
from app.fhir.elements import (
    as_decimal,
    as_dict,
    as_int,
    as_list,
    as_str,
    codings,
    extension_code,
    extensions,
    first_coding,
    identifier,
    identifiers,
    parse_date,
    parse_datetime,
    parse_period,
)
from app.fhir.references import BundleIndex


def npi_first(found: tuple[Identifier, ...]) -> tuple[Identifier, ...]:
    """The identifiers with NPIs first (order otherwise kept)."""
    return tuple(sorted(found, key=lambda i: i.system != urls.NPI))


def member_id(coverage: dict[str, Any]) -> Identifier | None:
    """Coverage.subscriberId, else the Coverage identifier typed MB (member number)."""
    subscriber = as_str(coverage.get("subscriberId"))
    if subscriber is not None:
        return Identifier(system=None, value=subscriber)
    for element in as_list(coverage.get("identifier")):
        if any(c.code == "MB" for c in codings(as_dict(element).get("type"))):
            return identifier(element)
    return None


def focal_coverage(claim: dict[str, Any], index: BundleIndex) -> dict[str, Any]:
    """The Coverage of the Claim's focal insurance ({} when it does not resolve)."""
    for insurance in as_list(claim.get("insurance")):
        if as_dict(insurance).get("focal") is True:
            return index.resolve_ref(insurance.get("coverage"), 0) or {}
    return {}


def _practitioner_npi(resource: dict[str, Any], index: BundleIndex) -> Identifier | None:
    if resource.get("resourceType") == "PractitionerRole":
        practitioner = index.resolve_ref(resource.get("practitioner"))
        found = npi_first(identifiers(resource.get("identifier")) + identifiers((practitioner or {}).get("identifier")))
    else:
        found = npi_first(identifiers(resource.get("identifier")))
    return found[0] if found else None


def _performer(item: dict[str, Any], claim: dict[str, Any], index: BundleIndex) -> Identifier | None:
    wanted = {as_int(s) for s in as_list(item.get("careTeamSequence"))}
    for member in as_list(claim.get("careTeam")):
        member = as_dict(member)
        if as_int(member.get("sequence")) in wanted:
            provider = index.resolve_ref(member.get("provider"), 0)
            if provider is not None:
                return _practitioner_npi(provider, index)
    return None


def _service_item(item: dict[str, Any], claim: dict[str, Any], index: BundleIndex) -> ServiceItem:
    serviced: Period | None = None
    served = parse_date(item.get("servicedDate"))
    if served is not None:
        serviced = Period(start=served, end=served)
    elif item.get("servicedPeriod") is not None:
        serviced = parse_period(item.get("servicedPeriod"))
    certification = extension_code(item, urls.EXT_CERTIFICATION_TYPE)
    for cancel in extensions(item, urls.EXT_INFO_CANCELLED, key="modifierExtension"):
        if cancel.get("valueBoolean") is True:
            certification = urls.CERT_CANCEL  # an item withdrawn by infoCancelled is a cancelled item
    product = first_coding(item.get("productOrService"))
    return ServiceItem(
        sequence=as_int(item.get("sequence")) or 0,
        product_or_service=product or Coding(system=None, code=""),
        category=first_coding(item.get("category")),
        modifiers=tuple(c for c in (first_coding(m) for m in as_list(item.get("modifier"))) if c is not None),
        quantity=as_decimal(as_dict(item.get("quantity")).get("value")),
        unit_price=as_decimal(as_dict(item.get("unitPrice")).get("value")),
        serviced=serviced,
        place_of_service=first_coding(item.get("locationCodeableConcept")),
        diagnosis_sequences=tuple(s for s in (as_int(x) for x in as_list(item.get("diagnosisSequence"))) if s),
        certification_type=certification,
        performer=_performer(item, claim, index),
        request_type=extension_code(item, urls.EXT_SERVICE_ITEM_REQUEST_TYPE),
    )


def _diagnoses(claim: dict[str, Any]) -> tuple[Diagnosis, ...]:
    found: list[Diagnosis] = []
    for element in as_list(claim.get("diagnosis")):
        element = as_dict(element)
        all_codings = list(codings(element.get("diagnosisCodeableConcept")))
        icd = [c for c in all_codings if c.system == urls.ICD_10_CM] or all_codings
        sequence = as_int(element.get("sequence"))
        if icd and sequence is not None:
            found.append(Diagnosis(sequence=sequence, code=icd[0]))
    return tuple(found)


def _kind(claim_cert: str | None, items: tuple[ServiceItem, ...], created: datetime) -> AuthorizationKind:
    certifications = {claim_cert, *(i.certification_type for i in items)}
    if certifications & urls.CERT_CONCURRENT:
        return AuthorizationKind.CONCURRENT
    active = [i for i in items if not i.cancelled]
    if any(i.serviced and i.serviced.start and i.serviced.start < created.date() for i in active):
        return AuthorizationKind.RETROSPECTIVE
    specialty = [i for i in active if i.request_type == urls.REQUEST_TYPE_SPECIALTY]
    for item in specialty:
        services = (item.category, item.product_or_service)
        if any(
            c and c.code == urls.SERVICE_TYPE_CONSULTATION and urls.x12_system_matches(c.system, urls.X12_1365)
            for c in services
        ):
            return AuthorizationKind.REFERRAL
    return AuthorizationKind.SPECIALTY if specialty else AuthorizationKind.PRIOR


def _related_claim(claim: dict[str, Any], index: BundleIndex) -> Identifier | None:
    for related in as_list(claim.get("related")):
        reference = as_dict(as_dict(related).get("claim"))
        prior = index.resolve_ref(reference, 0)
        found = identifiers((prior or {}).get("identifier")) or identifiers([reference.get("identifier")])
        if found:
            return found[0]
    return None


def _coverage_assertion_ids(claim: dict[str, Any], index: BundleIndex) -> tuple[str, ...]:
    holders: list[Any] = [claim, *as_list(claim.get("item"))]
    holders += [resource for _, resource in index.entries[1:]]
    found: list[str] = []
    for holder in holders:
        for info in extensions(holder, urls.EXT_CRD_COVERAGE_INFORMATION):
            for part in extensions(info, urls.CRD_COVERAGE_ASSERTION_ID):
                value = as_str(part.get("valueString"))
                if value is not None and value not in found:
                    found.append(value)
    return tuple(found)


def build_request(bundle: dict[str, Any], claim: dict[str, Any], index: BundleIndex) -> PriorAuthRequest:
    """The PriorAuthRequest a valid PAS request Bundle asks for."""
    created = parse_datetime(claim.get("created")) or datetime.now(UTC)
    items = tuple(_service_item(as_dict(item), claim, index) for item in as_list(claim.get("item")))
    claim_cert = extension_code(claim, urls.EXT_CERTIFICATION_TYPE)
    level = extension_code(claim, urls.EXT_LEVEL_OF_SERVICE)
    stat = any(c.code == "stat" for c in codings(claim.get("priority")))
    coverage = focal_coverage(claim, index)
    payors = (index.resolve_ref(p, None) for p in as_list(coverage.get("payor")))
    return PriorAuthRequest(
        bundle_identifier=identifier(bundle.get("identifier")) or Identifier(system=None, value=""),
        claim_identifiers=identifiers(claim.get("identifier")),
        insurer=identifiers((index.resolve_ref(claim.get("insurer"), 0) or {}).get("identifier")),
        payor=tuple(i for p in payors if p is not None for i in identifiers(p.get("identifier"))),
        provider=npi_first(identifiers((index.resolve_ref(claim.get("provider"), 0) or {}).get("identifier"))),
        member_id=member_id(coverage),
        patient_identifiers=identifiers((index.resolve_ref(claim.get("patient"), 0) or {}).get("identifier")),
        created=created,
        items=items,
        diagnoses=_diagnoses(claim),
        kind=_kind(claim_cert, items, created),
        priority=Priority.EXPEDITED if stat or level in urls.LEVELS_EXPEDITED else Priority.STANDARD,
        level_of_service=level,
        certification_type=claim_cert,
        related_claim=_related_claim(claim, index),
        coverage_assertion_ids=_coverage_assertion_ids(claim, index),
    )
