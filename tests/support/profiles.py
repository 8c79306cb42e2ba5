"""The suite's own conformance checks: the cardinalities and required bindings of the PAS profiles the
service answers with (beyond R4B parsing). Each check raises AssertionError naming the element."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from fhir.resources.R4B.communicationrequest import CommunicationRequest

Json = dict[str, Any]
LOINC = "http://loinc.org"
LOINC_CODE = re.compile(r"^\d{1,7}-\d$")
X12_886 = "https://codesystem.x12.org/external/886"
X12_UNITS = "https://codesystem.x12.org/005010/673"
PAYLOAD_CONTENT_R5 = "http://hl7.org/fhir/5.0/StructureDefinition/extension-CommunicationRequest.payload.content"
CONTENT_MODIFIER = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-contentModifier"
REVIEW_ACTION = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-reviewAction"


def check_communication_request(resource: Json) -> None:
    """PAS CommunicationRequest: status `active`, at most one payload, its content a LOINC
    attachment-request code (required binding), free text only in `note`."""
    CommunicationRequest.model_validate(resource)
    assert resource["status"] == "active"
    payloads = resource.get("payload", [])
    assert len(payloads) <= 1, "CommunicationRequest.payload: at most one"
    for payload in payloads:
        assert LOINC_CODE.match(payload.get("contentString", "")), "payload.content must be a LOINC code"
        for extension in payload.get("extension", []):
            assert extension["url"] != CONTENT_MODIFIER, "contentModifier is bound to X12 diagnosis information types"
            if extension["url"] == PAYLOAD_CONTENT_R5:
                codings = extension["valueCodeableConcept"]["coding"]
                assert {c["system"] for c in codings} == {LOINC}
                assert [c["code"] for c in codings] == [payload["contentString"]]


def _quantities(node: Any, path: str) -> Iterator[tuple[str, Json]]:
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}"
            if key in ("quantity", "quantityQuantity") and isinstance(value, dict):
                yield where, value
            yield from _quantities(value, where)
    elif isinstance(node, list):
        for n, value in enumerate(node):
            yield from _quantities(value, f"{path}[{n}]")


def check_quantities(resource: Json) -> None:
    """PAS prof-2/prof-3: every Quantity has a value and a unit or an X12 unit code."""
    for where, quantity in _quantities(resource, resource.get("resourceType", "")):
        assert "value" in quantity, f"{where}: a Quantity needs a value"
        coded = quantity.get("system") == X12_UNITS and quantity.get("code")
        assert quantity.get("unit") or coded, f"{where}: a Quantity needs a unit or an X12 unit code"


def review_reason_codings(claim_response: Json) -> list[Json]:
    """Every reasonCode coding of every reviewAction (items and addItems) of a ClaimResponse."""
    found: list[Json] = []
    for element in [*claim_response.get("item", []), *claim_response.get("addItem", [])]:
        for adjudication in element.get("adjudication", []):
            for review in [e for e in adjudication.get("extension", []) if e["url"] == REVIEW_ACTION]:
                for part in review.get("extension", []):
                    if part["url"] == "reasonCode":
                        found += part["valueCodeableConcept"].get("coding", [])
    return found


def check_review_reasons(claim_response: Json) -> None:
    """extension-reviewAction.reasonCode is bound (required) to the X12 886 code system."""
    for coding in review_reason_codings(claim_response):
        assert coding.get("system") == X12_886, f"reviewAction reasonCode under {coding.get('system')}"


def check_claim_response(claim_response: Json) -> None:
    """The PAS ClaimResponse rules above, and each contained CommunicationRequest."""
    check_quantities(claim_response)
    check_review_reasons(claim_response)
    for contained in claim_response.get("contained", []):
        if contained.get("resourceType") == "CommunicationRequest":
            check_communication_request(contained)


def check_response_bundle(bundle: Json) -> None:
    """Every ClaimResponse of a PAS response (or inquiry response, or notification) Bundle, nested ones too."""
    for entry in bundle.get("entry", []):
        resource = entry.get("resource") or {}
        if resource.get("resourceType") == "ClaimResponse":
            check_claim_response(resource)
        elif resource.get("resourceType") == "Bundle":
            check_response_bundle(resource)


CRD_INFO = "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information"
_ONE = ("coverage", "covered", "date", "coverage-assertion-id")
_AT_MOST_ONE = ("pa-needed", "satisfied-pa-id")
_CODES = {
    "covered": {"covered", "not-covered", "conditional"},
    "pa-needed": {"auth-needed", "no-auth", "satisfied", "performpa", "conditional"},
    "doc-needed": {"clinical", "admin", "patient", "conditional"},
    "info-needed": {"performer", "location", "timeframe", "contract-window", "detail-code", "other"},
}


def check_coverage_information(extension: Json, version: str) -> None:
    """CRD ext-coverage-information: its cardinalities (doc-needed 0..1 in 2.0, 0..* in 2.2) and code bindings."""
    assert extension["url"] == CRD_INFO
    parts = extension["extension"]
    names = [p["url"] for p in parts]
    for name in _ONE:
        assert names.count(name) == 1, f"coverage-information.{name}: exactly one"
    for name in _AT_MOST_ONE:
        assert names.count(name) <= 1, f"coverage-information.{name}: at most one"
    if version == "2.0":
        assert names.count("doc-needed") <= 1, "coverage-information.doc-needed: at most one in CRD 2.0.1"
    for part in parts:
        if part["url"] in _CODES:
            assert part["valueCode"] in _CODES[part["url"]], f"coverage-information.{part['url']}"
    assert ("satisfied-pa-id" in names) == any(
        p["url"] == "pa-needed" and p["valueCode"] == "satisfied" for p in parts
    ), "satisfied-pa-id exactly when pa-needed is satisfied"


def check_hook_answer(answer: Json, version: str) -> None:
    """A CRD hook answer: cards with a source topic, every coverage-information of every systemAction."""
    for card in answer["cards"]:
        assert len(card["summary"]) < 140
        assert card["source"]["topic"]["code"]
    for action in answer.get("systemActions", []):
        for extension in action["resource"].get("extension", []):
            if extension["url"] == CRD_INFO:
                check_coverage_information(extension, version)
