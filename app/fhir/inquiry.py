"""`Claim/$inquire`: parse a PAS inquiry Bundle into search criteria, and render the answer.

The inquiry Bundle has the shape of a request Bundle (PASClaimInquiry first, then the
resources it references); it names the payer, provider and patient, and may narrow the search
by Claim identifier, authorization number (Claim.insurance.preAuthRef or an item's
authorizationNumber), service codes and service dates. Items are optional; an item whose
`productOrService` is `data-absent-reason#not-applicable` asks about any service: every current
authorization of that member, provider and payer (the inquiry's own Claim identifier and service
codes do not narrow it then; its service dates still do).

The answer is a Parameters with one `return` per match: the stored response Bundle with the
inquiry profiles (PAS Inquiry Response Bundle, ClaimInquiryResponse) instead of the submit ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from app.domain.model import Coding, Identifier, Period
from app.errors import InvalidRequest, Issue
from app.fhir import urls
from app.fhir.elements import as_dict, as_list, as_str, extensions, first_coding, identifiers, parse_date, parse_period
from app.fhir.extract import focal_coverage, member_id, npi_first
from app.fhir.limits import ParseLimits
from app.fhir.loading import invalid, load_bundle
from app.fhir.references import BundleIndex
from app.fhir.rules import check_bundle_header, check_claim, check_references, first_claim

DEFAULT_LIMITS = ParseLimits()


@dataclass(frozen=True, slots=True)
class InquiryCriteria:
    """What a `$inquire` asks for. Empty narrowing fields mean "any"."""

    bundle_identifier: Identifier | None
    insurer: tuple[Identifier, ...]  # the inquiry Claim's insurer Organization identifiers
    payor: tuple[Identifier, ...]  # the focal Coverage payor identifiers
    provider: tuple[Identifier, ...]  # NPI first
    member_id: Identifier | None
    patient_identifiers: tuple[Identifier, ...]
    claim_identifiers: tuple[Identifier, ...] = ()  # narrowing: the original Claim's identifier(s)
    authorization_numbers: tuple[str, ...] = ()  # narrowing: preAuthRef / authorizationNumber
    service_codes: tuple[Coding, ...] = ()  # narrowing: items' productOrService
    service_period: Period | None = None  # narrowing: the span of the items' service dates


def _is_any_service(coding: Coding) -> bool:
    return coding.system == urls.DATA_ABSENT_REASON and coding.code == "not-applicable"


def _service_period(items: list[Any]) -> Period | None:
    starts: list[date] = []
    ends: list[date] = []
    for item in items:
        item = as_dict(item)
        served = parse_date(item.get("servicedDate"))
        period = parse_period(item.get("servicedPeriod")) if served is None else Period(served, served)
        if period is not None:
            if period.start:
                starts.append(period.start)
            if period.end:
                ends.append(period.end)
    if not starts and not ends:
        return None
    return Period(start=min(starts) if starts else None, end=max(ends) if ends else None)


def _authorization_numbers(claim: dict[str, Any]) -> tuple[str, ...]:
    found: list[str] = []
    for insurance in as_list(claim.get("insurance")):
        found += [v for v in as_list(as_dict(insurance).get("preAuthRef")) if isinstance(v, str) and v]
    for item in as_list(claim.get("item")):
        for extension in extensions(item, urls.EXT_AUTHORIZATION_NUMBER):
            value = as_str(extension.get("valueString"))
            if value is not None:
                found.append(value)
    return tuple(dict.fromkeys(found))


def parse_inquire(body: bytes, limits: ParseLimits = DEFAULT_LIMITS) -> InquiryCriteria:
    """Parse and validate a `$inquire` body (inquiry Bundle, or Parameters with `resource` = the Bundle).

    Raises InvalidRequest carrying every issue found (with FHIRPath expressions), and nothing else.
    """
    loaded = load_bundle(body, limits)
    bundle = loaded.bundle
    try:
        issues = list(loaded.issues) + check_bundle_header(bundle)
        claim, claim_issues = first_claim(bundle)
        issues += claim_issues
        criteria = None
        if claim is not None:
            index = BundleIndex(bundle)
            issues += check_claim(claim, index, inquiry=True)
            issues += check_references(index)
            if not any(i.severity in ("error", "fatal") for i in issues):
                criteria = _criteria(bundle, claim, index)
    except InvalidRequest:
        raise
    except Exception:
        criteria, issues = None, [Issue(text="the request could not be read as a PAS inquiry Bundle")]
    errors = [i for i in issues if i.severity in ("error", "fatal")]
    if errors or criteria is None:
        raise invalid(errors or [Issue(text="the request could not be read as a PAS inquiry Bundle")])
    return criteria


def _criteria(bundle: dict[str, Any], claim: dict[str, Any], index: BundleIndex) -> InquiryCriteria:
    coverage = focal_coverage(claim, index)
    payors = (index.resolve_ref(p) for p in as_list(coverage.get("payor")))
    items = as_list(claim.get("item"))
    codes = [c for item in items if (c := first_coding(as_dict(item).get("productOrService"))) is not None]
    any_service = any(_is_any_service(c) for c in codes)
    return InquiryCriteria(
        bundle_identifier=next(iter(identifiers([bundle.get("identifier")])), None),
        insurer=identifiers((index.resolve_ref(claim.get("insurer"), 0) or {}).get("identifier")),
        payor=tuple(i for p in payors if p is not None for i in identifiers(p.get("identifier"))),
        provider=npi_first(identifiers((index.resolve_ref(claim.get("provider"), 0) or {}).get("identifier"))),
        member_id=member_id(coverage),
        patient_identifiers=identifiers((index.resolve_ref(claim.get("patient"), 0) or {}).get("identifier")),
        claim_identifiers=() if any_service else identifiers(claim.get("identifier")),
        authorization_numbers=_authorization_numbers(claim),
        service_codes=() if any_service else tuple(codes),
        service_period=_service_period(items),
    )


def render_inquiry_result(bundles: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The `$inquire` answer (PAS 2.2): a Parameters with one `return` (a response Bundle) per match.

    No match renders a Parameters without parameters (FHIR forbids empty arrays).
    """
    result: dict[str, Any] = {"resourceType": "Parameters"}
    if bundles:
        result["parameter"] = [{"name": "return", "resource": inquiry_response(bundle)} for bundle in bundles]
    return result


def _with_profile(resource: dict[str, Any], profile: str) -> dict[str, Any]:
    return {**resource, "meta": {**as_dict(resource.get("meta")), "profile": [profile]}}


def inquiry_response(bundle: dict[str, Any]) -> dict[str, Any]:
    """A stored PAS response Bundle as an inquiry answer: the inquiry profiles on it and its ClaimResponse."""
    entries = [dict(entry) for entry in as_list(bundle.get("entry"))]
    if entries:
        entries[0]["resource"] = _with_profile(as_dict(entries[0].get("resource")), urls.PROFILE_CLAIM_INQUIRY_RESPONSE)
    return {**_with_profile(bundle, urls.PROFILE_INQUIRY_RESPONSE_BUNDLE), "entry": entries}
