"""Every public PAS example behaves as ../shared/pas-examples/README.md says (skipped when absent)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from app.domain.codes import AuthorizationKind, Priority
from app.domain.codes import ReviewAction as A
from app.domain.model import ItemDecision
from app.errors import InvalidRequest
from app.fhir.inquiry import parse_inquire
from app.fhir.response import render_response_bundle
from app.fhir.submit import parse_submit

EXAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "pas-examples"
pytestmark = pytest.mark.skipif(not EXAMPLES.is_dir(), reason="../shared/pas-examples is absent")

ACCEPTED = [
    "ig-2.2.1/Bundle-ReferralAuthorizationBundleExample.json",
    "ig-2.2.1/Bundle-HomecareAuthorizationBundleExample.json",
    "ig-2.2.1/Bundle-HomecareAuthorizationUpdateBundleExample.json",
    "ig-2.2.1/Bundle-MedicalServicesAuthorizationBundleExample.json",
    "ig-2.2.1/Bundle-SurgicalRequestBundleExample.json",
    "ig-2.0.1/Bundle-ReferralAuthorizationBundleExample.json",
    "ig-2.0.1/Bundle-HomecareAuthorizationDifferentialBundleExample.json",
    "inferno-fixtures/conformant_pas_bundle_v110_uuid.json",
]
REJECTED = {
    "inferno-fixtures/missing_referenced_resource_request_bundle.json": "Bundle.entry[0].resource.careTeam[0].provider",
    "inferno-fixtures/nonconformant_pas_bundle.json": "Bundle.entry",
    "ri-legacy/bundle-prior-auth.json": "Bundle.entry[1].resource.insurance",
    "ri-legacy/bundle-request.json": "Bundle.entry[0].resource.item",
    "ri-legacy/DatabaseResources-Claim.json": "Bundle.identifier",
    "ri-legacy/DatabaseResources-ClaimUpdate1.json": "Bundle.identifier",
}


def _body(name: str) -> bytes:
    return (EXAMPLES / name).read_bytes()


@pytest.mark.parametrize("name", ACCEPTED)
def test_accepted_example_parses_and_its_response_validates(name: str) -> None:
    parsed = parse_submit(_body(name))
    sequences = [item.sequence for item in parsed.request.items]
    decisions = {s: ItemDecision(s, A.CERTIFIED, authorization_number=f"AUTH{s}") for s in sequences[:1]}
    rendered = render_response_bundle(
        request_bundle=parsed.bundle,
        request=parsed.request,
        claim_response_id="cr-1",
        bundle_identifier="resp-1",
        created=datetime(2030, 1, 1, tzinfo=UTC),
        decisions=decisions,
        preauth_ref="PA-1",
        warnings=parsed.warnings,
    )
    Bundle.model_validate(rendered)
    claim_response: dict[str, Any] = rendered["entry"][0]["resource"]
    assert claim_response["resourceType"] == "ClaimResponse"
    assert [i["itemSequence"] for i in claim_response["item"]] == sequences
    full_urls = [e["fullUrl"] for e in rendered["entry"]]
    assert len(full_urls) == len(set(full_urls))
    request_urls = {e["fullUrl"]: e for e in parsed.bundle["entry"]}
    for key in ("patient", "insurer", "requestor", "request"):
        reference = claim_response[key]["reference"]
        assert reference in full_urls
        assert request_urls[reference] in rendered["entry"]


@pytest.mark.parametrize(("name", "expression"), REJECTED.items())
def test_rejected_example_names_what_is_wrong(name: str, expression: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_submit(_body(name))
    assert expression in [issue.expression for issue in caught.value.issues]


def test_surgical_dangling_practitioner_is_a_warning() -> None:
    parsed = parse_submit(_body("ig-2.2.1/Bundle-SurgicalRequestBundleExample.json"))
    assert {w.expression for w in parsed.warnings} == {
        "Bundle.entry[6].resource.practitioner",
        "Bundle.entry[6].resource.location[0]",
    }
    assert all(w.severity == "warning" for w in parsed.warnings)


def test_update_example_relates_to_the_prior_claim_and_cancels_item_2() -> None:
    request = parse_submit(_body("ig-2.2.1/Bundle-HomecareAuthorizationUpdateBundleExample.json")).request
    assert request.related_claim is not None
    assert request.related_claim.value == "111099"
    assert [i.sequence for i in request.items if i.cancelled] == [2]


def test_referral_example_is_an_urgent_referral() -> None:
    request = parse_submit(_body("ig-2.2.1/Bundle-ReferralAuthorizationBundleExample.json")).request
    assert request.kind is AuthorizationKind.REFERRAL
    assert request.priority is Priority.EXPEDITED
    assert request.diagnoses[0].code.code == "G89.4"


def test_inquiry_example_parses_to_criteria() -> None:
    criteria = parse_inquire(_body("ig-2.2.1/Bundle-PASClaimInquiryBundleExample.json"))
    assert criteria.member_id is not None
    assert criteria.member_id.value == "1122334455"
    assert [c.code for c in criteria.service_codes] == ["G0154", "B4184"]
    assert criteria.claim_identifiers[0].value == "111099"
