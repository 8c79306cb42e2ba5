"""Rendered responses validate with R4B models and follow the PAS rules; inquiry, outcome, media, capability."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.parameters import Parameters

from app.domain.codes import ReviewAction as A
from app.domain.model import Coding, ItemDecision, Period
from app.errors import Issue
from app.fhir.capability import capability_statement
from app.fhir.inquiry import parse_inquire, render_inquiry_result
from app.fhir.media import answer_format, is_fhir_json
from app.fhir.outcome import operation_outcome
from app.fhir.response import render_response_bundle, response_outcome
from app.fhir.submit import parse_submit
from tests.support.bundles import make_pas_bundle, to_bytes

REVIEW = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-reviewAction"


def _render(decisions: dict[int, ItemDecision]) -> dict[str, object]:
    parsed = parse_submit(to_bytes(make_pas_bundle()))
    return render_response_bundle(
        request_bundle=parsed.bundle,
        request=parsed.request,
        claim_response_id="cr-1",
        bundle_identifier="resp-1",
        created=datetime(2030, 5, 2, tzinfo=UTC),
        decisions=decisions,
        preauth_ref="PA-1",
        preauth_period=Period(date(2030, 5, 2), date(2030, 8, 2)),
    )


def test_mixed_decisions_render_partial_with_a6_additem_denial_reason_and_pended_followup() -> None:
    decisions = {
        1: ItemDecision(
            1,
            A.MODIFIED,
            authorization_number="N1",
            authorized_quantity=Decimal(2),
            authorized_service=Coding("s", "c"),
        ),
        2: ItemDecision(2, A.NOT_CERTIFIED, reason_codes=(Coding("https://codesystem.x12.org/external/886", "X"),)),
    }
    rendered = _render(decisions)
    Bundle.model_validate(rendered)
    response = rendered["entry"][0]["resource"]  # type: ignore[index]
    assert response["outcome"] == "partial"
    codes = [
        i["adjudication"][0]["extension"][0]["extension"][0]["valueCodeableConcept"]["coding"][0]["code"]
        for i in response["item"]
    ]
    assert codes == ["A6", "A3", "A4"]
    assert response["addItem"][0]["itemSequence"] == [1]
    assert response["addItem"][0]["quantity"] == {
        "value": 2,
        "unit": "Unit",
        "system": "https://codesystem.x12.org/005010/673",
        "code": "UN",
    }
    denial = response["item"][1]["adjudication"][0]["extension"][0]["extension"]
    assert [part["url"] for part in denial][-1] == "reasonCode"
    assert "$inquire" in response["disposition"]
    assert response["preAuthRef"] == "PA-1"


def test_outcome_helper() -> None:
    assert response_outcome([ItemDecision(1, A.CERTIFIED)]) == "complete"
    assert response_outcome([ItemDecision(1, A.CERTIFIED), ItemDecision(2, A.PENDED)]) == "partial"


def test_operation_outcome_validates_and_carries_expressions() -> None:
    rendered = operation_outcome([Issue(text="bad", expression="Bundle.type"), Issue(text="odd", code="weird")])
    OperationOutcome.model_validate(rendered)
    assert rendered["issue"][0]["expression"] == ["Bundle.type"]
    assert rendered["issue"][1]["code"] == "processing"
    OperationOutcome.model_validate(operation_outcome([]))


def test_inquiry_parse_and_render() -> None:
    criteria = parse_inquire(to_bytes(make_pas_bundle(1)))
    assert criteria.member_id is not None
    assert criteria.service_period == Period(date(2030, 5, 10), date(2030, 5, 10))
    result = render_inquiry_result([_render({}), _render({})])
    Parameters.model_validate(result)
    assert [p["name"] for p in result["parameter"]] == ["return", "return"]
    Parameters.model_validate(render_inquiry_result([]))


def test_media_types() -> None:
    assert is_fhir_json("application/fhir+json; charset=utf-8; fhirVersion=4.0")
    assert is_fhir_json("application/json")
    assert not is_fhir_json("application/fhir+json; fhirVersion=5.0")
    assert not is_fhir_json("application/xml")
    assert answer_format("application/xml, */*;q=0.1") == "xml"
    assert answer_format("application/fhir+xml") == "xml"
    assert answer_format("text/html, */*;q=0.1") == "json"
    assert answer_format(None) == answer_format("application/fhir+json") == "json"


def test_capability_statement_validates_and_names_the_operations() -> None:
    statement = capability_statement("https://epa.example.org", subscription_topics=["http://example.org/topic"])
    CapabilityStatement.model_validate(statement)
    operations = statement["rest"][0]["resource"][0]["operation"]
    assert {o["name"] for o in operations} == {"submit", "inquire", "validate"}
    assert statement["implementation"]["url"] == "https://epa.example.org/fhir"
    assert "security" in statement["rest"][0]
