"""The PAS rules a request Bundle must satisfy beyond FHIR R4 validity.

`check_request_bundle` returns every problem it finds as an Issue with a FHIRPath expression
into the Bundle: errors make the request invalid; warnings (a dangling reference below the
Claim's own references, a 2.0.1 differential update) travel with an accepted request.
"""

from __future__ import annotations

import re
from typing import Any

from app.errors import Issue
from app.fhir import urls
from app.fhir.elements import FULL_DATE, as_dict, as_int, as_list, as_str, extension_code, first_coding
from app.fhir.limits import path_to
from app.fhir.references import BundleIndex, collect_references

CLAIM = "Bundle.entry[0].resource"
# ICD-10-CM: a letter, a digit, an alphanumeric, then up to four more after an optional dot.
ICD_10_CM_CODE = re.compile(r"[A-Z][0-9][0-9A-Z](?:\.?[0-9A-Z]{1,4})?")

_EXPECTED_TYPES: dict[str, tuple[str, ...]] = {
    "patient": ("Patient",),
    "insurer": ("Organization",),
    "provider": ("Organization", "Practitioner", "PractitionerRole"),
}


def _error(text: str, expression: str, code: str = "invalid") -> Issue:
    return Issue(text=text, code=code, severity="error", expression=expression)


def check_bundle_header(bundle: dict[str, Any]) -> list[Issue]:
    """Bundle-level rules: type collection, identifier and timestamp present."""
    issues: list[Issue] = []
    if bundle.get("type") != "collection":
        issues.append(_error("a PAS request Bundle must have type 'collection'", "Bundle.type", "value"))
    if as_str(as_dict(bundle.get("identifier")).get("value")) is None:
        issues.append(
            _error("a PAS request Bundle must have an identifier with a value", "Bundle.identifier", "required")
        )
    if as_str(bundle.get("timestamp")) is None:
        issues.append(_error("a PAS request Bundle must have a timestamp", "Bundle.timestamp", "required"))
    return issues


def first_claim(bundle: dict[str, Any]) -> tuple[dict[str, Any] | None, list[Issue]]:
    """The Claim in the first entry, or None with the issue that says why it is missing."""
    entries = as_list(bundle.get("entry"))
    if not entries:
        return None, [_error("the Bundle must contain entries, the first one the Claim", "Bundle.entry", "required")]
    resource = as_dict(as_dict(entries[0]).get("resource"))
    if resource.get("resourceType") != "Claim":
        return None, [_error("the first entry of a PAS request Bundle must be a Claim", f"{CLAIM}", "structure")]
    return resource, []


def check_claim(claim: dict[str, Any], index: BundleIndex, *, inquiry: bool = False) -> list[Issue]:
    """Claim-level rules (the Claim is entry 0); `inquiry` relaxes what a PASClaimInquiry may omit."""
    issues: list[Issue] = []
    if claim.get("use") != "preauthorization":
        issues.append(_error("Claim.use must be 'preauthorization'", f"{CLAIM}.use", "value"))
    if claim.get("status") != "active":
        issues.append(
            _error("Claim.status must be 'active' (draft requests are not accepted)", f"{CLAIM}.status", "value")
        )
    if not any(as_str(as_dict(i).get("value")) for i in as_list(claim.get("identifier"))):
        issues.append(_error("the Claim must have an identifier with a value", f"{CLAIM}.identifier", "required"))
    for name, types in _EXPECTED_TYPES.items():
        issues += _check_target(claim, name, types, index)
    issues += _check_focal_coverage(claim, index)
    issues += _check_sequences(claim)
    certification = extension_code(claim, urls.EXT_CERTIFICATION_TYPE)
    if not as_list(claim.get("item")) and certification != urls.CERT_CANCEL and not inquiry:
        issues.append(_error("the Claim must have at least one item", f"{CLAIM}.item", "required"))
    issues += _check_diagnoses(claim)
    issues += _check_dates(claim)
    return issues


def _check_target(claim: dict[str, Any], name: str, types: tuple[str, ...], index: BundleIndex) -> list[Issue]:
    reference = as_dict(claim.get(name)).get("reference")
    if not isinstance(reference, str):
        return [_error(f"Claim.{name} must reference an entry of the Bundle", f"{CLAIM}.{name}", "required")]
    target = index.resolve(reference, 0)
    if target is not None and target.get("resourceType") not in types:
        return [_error(f"Claim.{name} must reference a {' or '.join(types)}", f"{CLAIM}.{name}", "invalid")]
    return []  # a reference that does not resolve is reported by check_references


def _check_focal_coverage(claim: dict[str, Any], index: BundleIndex) -> list[Issue]:
    for position, insurance in enumerate(as_list(claim.get("insurance"))):
        insurance = as_dict(insurance)
        if insurance.get("focal") is True:
            reference = as_dict(insurance.get("coverage")).get("reference")
            target = index.resolve(reference, 0) if isinstance(reference, str) else None
            if isinstance(reference, str) and target is not None and target.get("resourceType") != "Coverage":
                where = f"{CLAIM}.insurance[{position}].coverage"
                return [_error("the focal insurance must reference a Coverage", where)]
            if not isinstance(reference, str):
                where = f"{CLAIM}.insurance[{position}].coverage"
                return [_error("the focal insurance must reference a Coverage entry", where, "required")]
            return []
    return [_error("the Claim must have a focal insurance (focal = true)", f"{CLAIM}.insurance", "required")]


def _check_sequences(claim: dict[str, Any]) -> list[Issue]:
    issues: list[Issue] = []
    known: dict[str, set[int]] = {}
    for element in ("supportingInfo", "item", "diagnosis", "careTeam"):
        seen: set[int] = set()
        for position, entry in enumerate(as_list(claim.get(element))):
            sequence = as_int(as_dict(entry).get("sequence"))
            where = f"{CLAIM}.{element}[{position}].sequence"
            if sequence is None or sequence < 1:
                issues.append(_error(f"{element}.sequence must be a positive integer", where, "value"))
            elif sequence in seen:
                issues.append(_error(f"{element}.sequence {sequence} is used more than once", where, "duplicate"))
            else:
                seen.add(sequence)
        known[element] = seen
    for position, item in enumerate(as_list(claim.get("item"))):
        for field, element in (("diagnosisSequence", "diagnosis"), ("careTeamSequence", "careTeam")):
            for k, pointer in enumerate(as_list(as_dict(item).get(field))):
                if as_int(pointer) not in known[element]:
                    where = f"{CLAIM}.item[{position}].{field}[{k}]"
                    issues.append(_error(f"item.{field} points at no Claim.{element}.sequence", where, "value"))
    return issues


def _check_diagnoses(claim: dict[str, Any]) -> list[Issue]:
    issues: list[Issue] = []
    for position, diagnosis in enumerate(as_list(claim.get("diagnosis"))):
        concept = as_dict(as_dict(diagnosis).get("diagnosisCodeableConcept"))
        for k, coding in enumerate(as_list(concept.get("coding"))):
            coding = as_dict(coding)
            if coding.get("system") == urls.ICD_10_CM:
                code = coding.get("code")
                if not isinstance(code, str) or not ICD_10_CM_CODE.fullmatch(code):
                    where = f"{CLAIM}.diagnosis[{position}].diagnosisCodeableConcept.coding[{k}].code"
                    issues.append(_error("not a well-formed ICD-10-CM code", where, "code-invalid"))
    return issues


def _check_dates(claim: dict[str, Any]) -> list[Issue]:
    issues: list[Issue] = []
    created = claim.get("created")
    if not isinstance(created, str) or not FULL_DATE.match(created):
        issues.append(_error("Claim.created must be a complete date and time", f"{CLAIM}.created", "value"))
    for position, item in enumerate(as_list(claim.get("item"))):
        item = as_dict(item)
        where = f"{CLAIM}.item[{position}]"
        if first_coding(item.get("productOrService")) is None:
            issues.append(_error("item.productOrService must carry a code", f"{where}.productOrService", "required"))
        served = item.get("servicedDate")
        if served is not None and not (isinstance(served, str) and FULL_DATE.fullmatch(served)):
            issues.append(_error("item.servicedDate must be a complete date", f"{where}.servicedDate", "value"))
        period = item.get("servicedPeriod")
        if period is not None:
            period = as_dict(period)
            bounds = [period.get("start"), period.get("end")]
            if not any(bounds) or any(
                b is not None and not (isinstance(b, str) and FULL_DATE.match(b)) for b in bounds
            ):
                issues.append(_error("item.servicedPeriod needs complete dates", f"{where}.servicedPeriod", "value"))
            elif all(isinstance(b, str) for b in bounds) and str(bounds[0])[:10] > str(bounds[1])[:10]:
                issues.append(_error("item.servicedPeriod ends before it starts", f"{where}.servicedPeriod", "value"))
    return issues


def check_references(index: BundleIndex) -> list[Issue]:
    """Every reference from the Claim resolves to exactly one entry (error); references elsewhere, a warning."""
    issues: list[Issue] = []
    for position, (_, resource) in enumerate(index.entries):
        for element, reference in collect_references(resource):
            found = index.resolve_all(reference, position)
            if len(found) == 1:
                continue
            where = path_to(resource, element, f"Bundle.entry[{position}].resource")
            problem = "is not in the Bundle" if not found else "matches more than one entry"
            if position == 0:
                issues.append(
                    _error(f"the Claim's reference {problem}", where, "not-found" if not found else "invalid")
                )
            else:
                text = f"a reference {problem} (below the Claim's own references; not used)"
                issues.append(Issue(text=text, code="not-found", severity="warning", expression=where))
    issues.sort(key=lambda issue: issue.expression or "")
    return issues


def check_differential(claim: dict[str, Any]) -> list[Issue]:
    """A PAS 2.0.1 differential update (meta.security SUBSETTED) is accepted with a warning."""
    security = as_list(as_dict(claim.get("meta")).get("security"))
    if any(as_dict(s).get("code") == urls.SUBSETTED_SECURITY for s in security):
        text = "a PAS 2.0.1 differential (SUBSETTED) Claim is read as sent; PAS 2.2 expects the full Claim"
        return [Issue(text=text, code="informational", severity="warning", expression=f"{CLAIM}.meta.security")]
    return []
