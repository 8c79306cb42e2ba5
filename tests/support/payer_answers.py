"""What a PAS payer sends back, as bytes: a response Bundle deciding items, an OperationOutcome refusing a
request. For the payer adapter tests and for the lifecycle tests that script a fhir-pas payer."""

from __future__ import annotations

from typing import Any

import orjson

from app.domain.codes import X12_306_SYSTEM, ReviewAction
from app.domain.model import Coding, ItemDecision
from app.payers.testing import HCPCS

PAS = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/"


def review_action(decision: ItemDecision) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [
        {
            "url": PAS + "extension-reviewActionCode",
            "valueCodeableConcept": {"coding": [{"system": X12_306_SYSTEM, "code": decision.action.value}]},
        }
    ]
    if decision.authorization_number:
        parts.append({"url": "number", "valueString": decision.authorization_number})
    for reason in decision.reason_codes:
        parts.append(
            {
                "url": "reasonCode",
                "valueCodeableConcept": {
                    "coding": [{"system": reason.system, "code": reason.code}],
                    "text": decision.reason_text or reason.display,
                },
            }
        )
    return {"url": PAS + "extension-reviewAction", "extension": parts}


def claim_response_bundle(
    decisions: tuple[ItemDecision, ...],
    *,
    identifier: str = "PAYER-REF-1",
    preauth_ref: str | None = None,
    first: str = "ClaimResponse",
) -> bytes:
    """A PAS response Bundle as a payer would send it; A6 decisions become addItem entries."""
    items: list[dict[str, Any]] = []
    added: list[dict[str, Any]] = []
    for decision in decisions:
        entry: dict[str, Any] = {
            "itemSequence": decision.sequence,
            "adjudication": [{"category": {"coding": [{"code": "submitted"}]}, "extension": [review_action(decision)]}],
        }
        if decision.authorized_period is not None:
            period = decision.authorized_period
            entry["extension"] = [
                {
                    "url": PAS + "extension-itemPreAuthPeriod",
                    "valuePeriod": {"start": str(period.start), "end": str(period.end)},
                }
            ]
        items.append(entry)
        if decision.action is ReviewAction.MODIFIED:
            service = decision.authorized_service or Coding(HCPCS, "E0999")
            add: dict[str, Any] = {
                "itemSequence": [decision.sequence],
                "productOrService": {"coding": [{"system": service.system, "code": service.code}]},
            }
            if decision.authorized_quantity is not None:
                add["quantity"] = {"value": float(decision.authorized_quantity)}
            added.append(add)
    claim_response: dict[str, Any] = {
        "resourceType": "ClaimResponse",
        "id": "cr-1",
        "identifier": [{"system": "urn:payer", "value": identifier}],
        "status": "active",
        "use": "preauthorization",
        "outcome": "complete",
        "item": items,
    }
    if added:
        claim_response["addItem"] = added
    if preauth_ref:
        claim_response["preAuthRef"] = preauth_ref
    if first != "ClaimResponse":
        claim_response = {"resourceType": first, "id": "x"}
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": claim_response}]}
    return orjson.dumps(bundle)


def operation_outcome(text: str, code: str = "business-rule", expression: str | None = None) -> bytes:
    issue: dict[str, Any] = {"severity": "error", "code": code, "details": {"text": text}}
    if expression:
        issue["expression"] = [expression]
    return orjson.dumps({"resourceType": "OperationOutcome", "issue": [issue]})
