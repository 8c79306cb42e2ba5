"""CDex `$submit-attachment` Parameters: what is accepted, what is refused (one 400 naming the expression)."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
import pytest

from app.errors import InvalidRequest
from app.fhir.attachments import parse_submit_attachment

Json = dict[str, Any]
NOTE: Json = {"resourceType": "DocumentReference", "status": "current", "content": [{"attachment": {"data": "aGk="}}]}
ANSWERS: Json = {"resourceType": "QuestionnaireResponse", "status": "completed"}


def _parameters(*attachments: Json, tracking: Json | None = None) -> bytes:
    parameters: list[Json] = [
        {"name": "TrackingId", "valueIdentifier": tracking or {"system": "urn:claims", "value": "CLAIM-1"}},
        {"name": "AttachTo", "valueCode": "preauthorization"},
        {"name": "MemberId", "valueIdentifier": {"value": "M-1"}},
        *attachments,
    ]
    return orjson.dumps({"resourceType": "Parameters", "parameter": parameters})


def _part(resource: Json) -> Json:
    return {"name": "Attachment", "part": [{"name": "Content", "resource": resource}]}


def _refusal(body: bytes, **kwargs: Any) -> tuple[str, str | None]:
    with pytest.raises(InvalidRequest) as caught:
        parse_submit_attachment(body, **kwargs)
    issue = caught.value.issues[0]
    return issue.code, issue.expression


def test_documents_are_parsed_hashed_and_the_same_one_is_kept_once() -> None:
    submission = parse_submit_attachment(_parameters(_part(NOTE), _part(ANSWERS), _part(NOTE)))

    assert (submission.tracking_id.system, submission.tracking_id.value) == ("urn:claims", "CLAIM-1")
    assert submission.attach_to == "preauthorization"
    assert submission.member is not None
    assert submission.member.value == "M-1"
    assert [a.resource_type for a in submission.attachments] == ["DocumentReference", "QuestionnaireResponse"]
    first = submission.attachments[0]
    assert first.sha256 == hashlib.sha256(first.content).hexdigest()
    assert orjson.loads(first.content) == NOTE


def test_a_resource_directly_on_the_attachment_parameter_is_accepted() -> None:
    submission = parse_submit_attachment(_parameters({"name": "Attachment", "resource": NOTE}))

    assert [a.resource_type for a in submission.attachments] == ["DocumentReference"]


def test_key_order_does_not_make_another_document() -> None:
    reordered = dict(reversed(list(NOTE.items())))
    one = parse_submit_attachment(_parameters(_part(NOTE))).attachments[0]
    two = parse_submit_attachment(_parameters(_part(reordered))).attachments[0]

    assert one.sha256 == two.sha256


def test_a_document_over_the_limit_is_refused_naming_it() -> None:
    big = {**NOTE, "content": [{"attachment": {"data": "QUFB" * 400}}]}

    assert _refusal(_parameters(_part(NOTE), _part(big)), max_attachment_bytes=1024) == (
        "too-costly",
        "Parameters.parameter[4].part[0].resource",
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"not json", ("structure", None)),
        (orjson.dumps({"resourceType": "Bundle"}), ("structure", "Parameters")),
        (_parameters(), ("required", "Parameters.parameter")),
        (
            _parameters(_part(NOTE), tracking={"system": "urn:claims"}),
            ("required", "Parameters.parameter[0].valueIdentifier"),
        ),
        (
            _parameters({"name": "Attachment", "part": [{"name": "LineItem", "valueString": "1"}]}),
            ("required", "Parameters.parameter[3].part"),
        ),
    ],
    ids=["not JSON", "not Parameters", "no Attachment", "TrackingId without a value", "Attachment without Content"],
)
def test_malformed_parameters_are_refused_with_the_expression(body: bytes, expected: tuple[str, str | None]) -> None:
    assert _refusal(body) == expected


def test_attach_to_must_be_a_known_code() -> None:
    body = orjson.loads(_parameters(_part(NOTE)))
    body["parameter"][1]["valueCode"] = "encounter"

    assert _refusal(orjson.dumps(body)) == ("value", "Parameters.parameter[1].valueCode")


def test_r4b_validation_failures_are_refused_as_structure() -> None:
    body = orjson.loads(_parameters(_part(NOTE)))
    body["parameter"][0]["valueIdentifier"] = "CLAIM-1"  # a string where an Identifier belongs

    code, expression = _refusal(orjson.dumps(body))
    assert code == "structure"
    assert expression is not None
    assert expression.startswith("Parameters.parameter")
