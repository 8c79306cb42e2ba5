"""SDC `$next-question` for the adaptive questionnaires (DTR 2.2.0 adaptive forms), one item at a time.

The client sends an adaptive QuestionnaireResponse: it contains its Questionnaire (`#` reference),
whose `derivedFrom` names the payer's adaptive Questionnaire (`url|version`). The answer is the same
QuestionnaireResponse whose contained Questionnaire now also holds the next item to ask: the first
item, in the payer's order, that is enabled (`enableWhen`, and `enableWhenExpression` in FHIRPath,
evaluated with fhirpathpy against the response as `%resource`) and not yet answered. When no
enabled item is left unanswered the response is `completed`. A response that is not valid R4, answers
an item the questionnaire does not have, or answers with the wrong type is refused by FHIRPath.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from typing import Any, Final

import orjson
from fhirpathpy import evaluate
from fhirpathpy.models import models

from app.errors import InvalidRequest, Issue
from app.fhir.dtr import is_canonical, validate_resource
from app.fhir.elements import as_dict, as_list

logger = logging.getLogger(__name__)
EXT_ENABLE_WHEN_EXPRESSION: Final = (
    "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression"
)
PROFILE_ADAPTIVE: Final = "http://hl7.org/fhir/us/davinci-dtr/StructureDefinition/dtr-questionnaire-adapt"
PROFILE_ADAPTIVE_QR: Final = "http://hl7.org/fhir/us/davinci-dtr/StructureDefinition/dtr-questionnaireresponse-adapt"
# The answer[x] each item type takes (SDC / R4 Questionnaire item types).
ANSWER_TYPES: Final = {
    "boolean": "valueBoolean",
    "decimal": "valueDecimal",
    "integer": "valueInteger",
    "date": "valueDate",
    "dateTime": "valueDateTime",
    "time": "valueTime",
    "string": "valueString",
    "text": "valueString",
    "url": "valueUri",
    "choice": "valueCoding",
    "open-choice": "valueCoding",
    "quantity": "valueQuantity",
    "attachment": "valueAttachment",
    "reference": "valueReference",
}


def _bad(text: str, expression: str, code: str = "invalid") -> InvalidRequest:
    return InvalidRequest(text, issues=[Issue(text, code, expression=expression)])


def adaptive_source(response: dict[str, Any]) -> str:
    """The canonical of the payer's adaptive Questionnaire the response's contained one derives from."""
    problems = validate_resource(response, "QuestionnaireResponse")
    if problems:
        raise InvalidRequest(problems[0].text, issues=problems)
    contained = _contained(response)
    derived = as_list(contained.get("derivedFrom")) if contained else []
    if not derived or not is_canonical(derived[0]):
        raise _bad(
            "an adaptive response contains its Questionnaire, derivedFrom the payer's adaptive Questionnaire",
            "QuestionnaireResponse.contained",
            "required",
        )
    return str(derived[0])


def _contained(response: dict[str, Any]) -> dict[str, Any] | None:
    reference = str(response.get("questionnaire") or "")
    for resource in map(as_dict, as_list(response.get("contained"))):
        if resource.get("resourceType") == "Questionnaire" and reference == f"#{resource.get('id')}":
            return resource
    return None


def _answers(response: dict[str, Any]) -> dict[str, tuple[str, list[dict[str, Any]]]]:
    """linkId -> (FHIRPath of the item, its answers), over every item of the response."""
    found: dict[str, tuple[str, list[dict[str, Any]]]] = {}

    def walk(node: dict[str, Any], path: str) -> None:
        for index, item in enumerate(map(as_dict, as_list(node.get("item")))):
            where = f"{path}.item[{index}]"
            found[str(item.get("linkId"))] = (where, [as_dict(a) for a in as_list(item.get("answer"))])
            walk(item, where)

    walk(response, "QuestionnaireResponse")
    return found


def _value(answer: dict[str, Any]) -> Any:
    return next((v for k, v in answer.items() if k.startswith("value")), None)


def _matches(condition: dict[str, Any], answers: list[dict[str, Any]]) -> bool:
    operator = condition.get("operator")
    expected = next((v for k, v in condition.items() if k.startswith("answer")), None)  # answer[x]
    if operator == "exists":
        return bool(answers) == bool(expected)
    values = [_value(a) for a in answers]
    if isinstance(expected, dict):  # a Coding: compare system and code
        same = [
            isinstance(v, dict) and (v.get("system"), v.get("code")) == (expected.get("system"), expected.get("code"))
            for v in values
        ]
    else:
        same = [v == expected for v in values]
    if operator == "=":
        return any(same)
    if operator == "!=":
        return bool(values) and not any(same)
    comparisons: dict[str, Callable[[Any, Any], bool]] = {
        ">": lambda a, b: a > b,
        "<": lambda a, b: a < b,
        ">=": lambda a, b: a >= b,
        "<=": lambda a, b: a <= b,
    }
    compare = comparisons.get(str(operator))
    try:
        return compare is not None and any(compare(v, expected) for v in values)
    except TypeError:
        return False


def enabled(
    item: dict[str, Any], response: dict[str, Any], answers: dict[str, tuple[str, list[dict[str, Any]]]]
) -> bool:
    """Whether `item` is enabled by the answers so far (enableWhen and a FHIRPath enableWhenExpression)."""
    conditions = [as_dict(c) for c in as_list(item.get("enableWhen"))]
    if conditions:
        results = [_matches(c, answers.get(str(c.get("question")), ("", []))[1]) for c in conditions]
        if not (any(results) if item.get("enableBehavior") == "any" else all(results)):
            return False
    for extension in map(as_dict, as_list(item.get("extension"))):
        expression = as_dict(extension.get("valueExpression"))
        if extension.get("url") == EXT_ENABLE_WHEN_EXPRESSION and expression.get("language") == "text/fhirpath":
            try:
                result = evaluate(response, str(expression.get("expression")), {"resource": response}, models["r4"])
            except Exception as exc:  # a broken expression in the payer's data disables the item
                logger.warning("enableWhenExpression failed: %s", type(exc).__name__)
                return False
            if result != [True]:
                return False
    return True


def _check_answers(source: dict[str, Any], answers: dict[str, tuple[str, list[dict[str, Any]]]]) -> None:
    items = {str(i.get("linkId")): i for i in map(as_dict, as_list(source.get("item")))}
    for link_id, (where, given) in answers.items():
        item = items.get(link_id)
        if item is None:
            raise _bad(f"the questionnaire has no item {link_id!r}", f"{where}.linkId", "value")
        wanted = ANSWER_TYPES.get(str(item.get("type")))
        for index, answer in enumerate(given):
            if (
                wanted is not None
                and wanted not in answer
                and not (item.get("type") == "open-choice" and "valueString" in answer)
            ):
                raise _bad(f"item {link_id!r} is answered with {wanted}", f"{where}.answer[{index}]", "value")


def next_question(source: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    """The response with the next enabled, unanswered item added to its contained Questionnaire (or completed)."""
    answers = {k: v for k, v in _answers(response).items() if v[1]}
    _check_answers(source, answers)
    result = copy.deepcopy(response)
    contained = _contained(result)
    assert contained is not None  # adaptive_source checked it
    asked = {str(as_dict(i).get("linkId")) for i in as_list(contained.get("item"))}
    pending = [
        item
        for item in map(as_dict, as_list(source.get("item")))
        if str(item.get("linkId")) not in answers
        and (item.get("required") or str(item.get("linkId")) not in asked)  # an optional item is asked once
        and enabled(item, response, answers)
    ]
    contained.setdefault("meta", {}).setdefault("profile", [PROFILE_ADAPTIVE])
    result.setdefault("meta", {}).setdefault("profile", [PROFILE_ADAPTIVE_QR])
    if not pending:
        result["status"] = "completed"
        return result
    following = pending[0]
    if str(following.get("linkId")) not in asked:
        shown = {k: v for k, v in following.items() if k not in ("enableWhen", "enableBehavior", "extension")}
        contained["item"] = [*as_list(contained.get("item")), shown]
    result["status"] = "in-progress"
    return result


def parse_next_question(body: bytes) -> dict[str, Any]:
    """The adaptive QuestionnaireResponse sent: the body itself, or a Parameters' `in` (SDC)."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise _bad("the body is not JSON", "QuestionnaireResponse", "structure") from None
    if isinstance(document, dict) and document.get("resourceType") == "Parameters":
        for index, parameter in enumerate(map(as_dict, as_list(document.get("parameter")))):
            if parameter.get("name") in ("in", "questionnaire-response"):
                resource = as_dict(parameter.get("resource"))
                if resource.get("resourceType") != "QuestionnaireResponse":
                    raise _bad("in is a QuestionnaireResponse", f"Parameters.parameter[{index}].resource", "structure")
                return resource
        raise _bad("in (the adaptive QuestionnaireResponse) is required", "Parameters.parameter", "required")
    if not isinstance(document, dict) or document.get("resourceType") != "QuestionnaireResponse":
        raise _bad("send the adaptive QuestionnaireResponse (or Parameters `in`)", "resourceType", "structure")
    return document
