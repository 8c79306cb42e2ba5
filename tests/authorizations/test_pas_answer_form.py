"""What the service writes into a PAS answer, whatever the payer sent: Quantities with a unit (PAS
prof-2/prof-3) and reviewAction reason codes under X12 886 (required binding), mapped through the
payer's code map or kept as text."""

from __future__ import annotations

from decimal import Decimal

import httpx
import respx

from app.domain.codes import ReviewAction
from app.domain.model import Coding, ItemDecision
from tests.authorizations.support import (
    ACME_REASONS,
    PAYER,
    Item,
    decision,
    pas_answer,
    request_bundle,
    submit_bundle,
)
from tests.support.pas import claim_response
from tests.support.profiles import X12_886, X12_UNITS, check_response_bundle, review_reason_codings

HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"


async def test_a_modified_items_quantity_has_a_unit_whatever_the_payer_sent(
    client: httpx.AsyncClient, acme: respx.MockRouter
) -> None:
    modified = ItemDecision(
        1,
        ReviewAction.MODIFIED,
        authorization_number="ACME-AUTH-1",
        authorized_quantity=Decimal(2),  # the payer's addItem.quantity has a value only
        authorized_service=Coding(HCPCS, "E0250"),
    )
    acme.post(f"{PAYER}/Claim/$submit").mock(return_value=pas_answer(modified))
    answered = await submit_bundle(client, request_bundle(Item("E0260", 4), acme=True))
    (added,) = claim_response(answered.body)["addItem"]
    assert added["quantity"] == {"value": 2, "unit": "Unit", "system": X12_UNITS, "code": "UN"}
    check_response_bundle(answered.body)


async def test_the_sandbox_and_the_coverage_rules_answer_x12_886_reason_codes(client: httpx.AsyncClient) -> None:
    by_sandbox = await submit_bundle(client, request_bundle("99212", member="SBX-DENY"))
    by_rules = await submit_bundle(client, request_bundle("A9270"))
    for answered in (by_sandbox, by_rules):
        assert answered.actions == {1: "A3"}
        codings = review_reason_codings(claim_response(answered.body))
        assert codings
        assert {c["system"] for c in codings} == {X12_886}
        check_response_bundle(answered.body)


async def test_a_payers_own_reason_code_is_mapped_to_x12_886_or_kept_as_text(
    client: httpx.AsyncClient, acme: respx.MockRouter
) -> None:
    mapped = ItemDecision(1, ReviewAction.NOT_CERTIFIED, reason_codes=(Coding(ACME_REASONS, "MN", "Not necessary"),))
    unknown = ItemDecision(2, ReviewAction.NOT_CERTIFIED, reason_codes=(Coding(ACME_REASONS, "ZZ", "Plan rule 7"),))
    acme.post(f"{PAYER}/Claim/$submit").mock(
        return_value=pas_answer(mapped, unknown, decision(3, ReviewAction.CERTIFIED))
    )
    answered = await submit_bundle(client, request_bundle("E0470", "E0471", "E0472", acme=True))
    response = claim_response(answered.body)
    check_response_bundle(answered.body)
    first, second, _ = response["item"]
    assert review_reason_codings({"item": [first]}) == [{"system": X12_886, "code": "01"}]
    assert review_reason_codings({"item": [second]}) == []
    notes = {n["number"]: n["text"] for n in response["processNote"]}
    assert any(f"{ACME_REASONS}|ZZ" in notes[n] for n in second["noteNumber"])
