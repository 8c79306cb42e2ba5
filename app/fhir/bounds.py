"""Values of a valid PAS request that the store keeps must fit its columns (`app.domain.bounds`).

R4B validation accepts strings of any length and decimals of any size; the columns do not. Each
value the service stores is checked where it is taken from (the same elements `extract` reads),
and one that would not fit is an error Issue with the FHIRPath of the element, so the client
hears a 400 instead of the database refusing the row. Control characters anywhere in the body
are refused earlier, by the JSON walk in `limits`.
"""

from __future__ import annotations

from typing import Any

from app.domain import bounds
from app.errors import Issue
from app.fhir.elements import as_decimal, as_dict, as_int, as_list, as_str, codings
from app.fhir.extract import focal_coverage
from app.fhir.references import BundleIndex

CLAIM = "Bundle.entry[0].resource"


def _too_long(what: str, limit: int, expression: str) -> Issue:
    return Issue(text=f"{what} is longer than {limit} characters", code="value", expression=expression)


def _key_length(element: Any) -> int:
    """The length of "system|value", as the store keeps an identifier (0 without a value: not kept)."""
    element = as_dict(element)
    value = as_str(element.get("value"))
    return len(as_str(element.get("system")) or "") + 1 + len(value) if value else 0


def _identifier(element: Any, limit: int, expression: str, what: str = "the identifier (system|value)") -> list[Issue]:
    return [_too_long(what, limit, expression)] if _key_length(element) > limit else []


def _entry_path(index: BundleIndex, resource: dict[str, Any]) -> str | None:
    return next((f"Bundle.entry[{k}].resource" for k, (_, r) in enumerate(index.entries) if r is resource), None)


def _member(coverage: dict[str, Any], where: str) -> list[Issue]:
    limit = bounds.MEMBER_ID_LENGTH
    subscriber = as_str(coverage.get("subscriberId"))
    if subscriber is not None and len(subscriber) > limit:
        return [_too_long("the member id", limit, f"{where}.subscriberId")]
    issues: list[Issue] = []
    for k, element in enumerate(as_list(coverage.get("identifier"))):
        if not any(c.code == "MB" for c in codings(as_dict(element).get("type"))):
            continue
        value = as_str(as_dict(element).get("value"))
        if value and len(value) > limit:
            issues.append(_too_long("the member id", limit, f"{where}.identifier[{k}].value"))
        else:  # kept with its system for patient.identifier search
            issues += _identifier(element, bounds.IDENTIFIER_KEY_LENGTH, f"{where}.identifier[{k}]", "the member id")
    return issues


def _patient(claim: dict[str, Any], index: BundleIndex) -> list[Issue]:
    """The Patient's identifiers are kept (system and value) for patient.identifier search."""
    patient = index.resolve_ref(claim.get("patient"), 0)
    where = _entry_path(index, patient) if patient is not None else None
    if patient is None or where is None:
        return []
    issues: list[Issue] = []
    for k, element in enumerate(as_list(patient.get("identifier"))):
        path = f"{where}.identifier[{k}]"
        issues += _identifier(element, bounds.IDENTIFIER_KEY_LENGTH, path, "the patient identifier (system|value)")
    return issues


def _item(item: dict[str, Any], where: str) -> list[Issue]:
    issues: list[Issue] = []
    sequence = as_int(item.get("sequence"))
    if sequence is not None and sequence > bounds.INT32_MAX:
        text = f"item.sequence is above {bounds.INT32_MAX}"
        issues.append(Issue(text=text, code="value", expression=f"{where}.sequence"))
    for k, coding in enumerate(as_list(as_dict(item.get("productOrService")).get("coding"))):
        coding = as_dict(coding)
        path = f"{where}.productOrService.coding[{k}]"
        if len(as_str(coding.get("system")) or "") > bounds.CODE_SYSTEM_LENGTH:
            issues.append(_too_long("the code system", bounds.CODE_SYSTEM_LENGTH, f"{path}.system"))
        if len(as_str(coding.get("code")) or "") > bounds.CODE_LENGTH:
            issues.append(_too_long("the code", bounds.CODE_LENGTH, f"{path}.code"))
    quantity = as_decimal(as_dict(item.get("quantity")).get("value"))
    if quantity is not None and not bounds.quantity_fits(quantity):
        text = f"item.quantity.value must be within +-{bounds.QUANTITY_MAX}"
        issues.append(Issue(text=text, code="value", expression=f"{where}.quantity.value"))
    return issues


def check_request_bounds(bundle: dict[str, Any], claim: dict[str, Any], index: BundleIndex) -> list[Issue]:
    """Every stored value of the request within its column: identifiers, member id, patient, provider, items."""
    key = bounds.IDENTIFIER_KEY_LENGTH
    issues = _identifier(bundle.get("identifier"), key, "Bundle.identifier")
    for k, element in enumerate(as_list(claim.get("identifier"))):
        issues += _identifier(element, key, f"{CLAIM}.identifier[{k}]")
    coverage = focal_coverage(claim, index)
    where = _entry_path(index, coverage)
    if where is not None:
        issues += _member(coverage, where)
    issues += _patient(claim, index)
    provider = index.resolve_ref(claim.get("provider"), 0)
    where = _entry_path(index, provider) if provider is not None else None
    if provider is not None and where is not None:
        for k, element in enumerate(as_list(provider.get("identifier"))):
            path = f"{where}.identifier[{k}]"
            issues += _identifier(element, bounds.PROVIDER_KEY_LENGTH, path, "the provider identifier")
    for position, item in enumerate(as_list(claim.get("item"))):
        issues += _item(as_dict(item), f"{CLAIM}.item[{position}]")
    return issues
