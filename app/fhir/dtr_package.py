"""`Questionnaire/$questionnaire-package` (DTR 2.2.0): the input Parameters read once, the output rendered.

`parse_package_request` refuses a bad request with one 400 OperationOutcome listing every problem
by FHIRPath (`Parameters.parameter[i]...`): no or a repeated `coverage`, a Coverage that is not
valid R4, an `order` of a type DTR does not allow, a `questionnaire` that is not a canonical, a
`changedsince` that is not a dateTime, none of `order`, `questionnaire` and `context` (dtr-1).
`questionnaire_response` builds the in-progress QuestionnaireResponse of a package, prefilled from
what the request carries: an item whose `definition` names an element of an order or of the
Coverage (`.../DeviceRequest#DeviceRequest.codeCodeableConcept`) gets that element's value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import orjson

from app.errors import InvalidRequest, Issue
from app.fhir.dtr import (
    EXT_INFORMATION_ORIGIN,
    EXT_QR_CONTEXT,
    PROFILE_OUTPUT,
    PROFILE_PACKAGE_BUNDLE,
    PROFILE_QR,
    is_canonical,
    validate_resource,
)
from app.fhir.elements import as_dict, as_list, as_str, parse_datetime

ORDER_TYPES: Final = (
    "Appointment",
    "CommunicationRequest",
    "DeviceRequest",
    "Encounter",
    "MedicationRequest",
    "NutritionOrder",
    "ServiceRequest",
    "VisionPrescription",
)
# Where an order carries the code of what is ordered (the element the coverage rules match).
_ORDER_CODE: Final = {
    "DeviceRequest": "codeCodeableConcept",
    "ServiceRequest": "code",
    "MedicationRequest": "medicationCodeableConcept",
    "CommunicationRequest": "category",
    "Appointment": "serviceType",
    "Encounter": "type",
}


@dataclass(frozen=True, slots=True)
class PackageRequest:
    coverage: dict[str, Any]
    orders: tuple[dict[str, Any], ...]
    questionnaires: tuple[tuple[str, str], ...]  # (canonical, FHIRPath of its parameter)
    context: tuple[str, str] | None  # (context id, FHIRPath)
    changedsince: datetime | None
    coverage_at: str  # FHIRPath of the Coverage


def _param(index: int, suffix: str = "") -> str:
    return f"Parameters.parameter[{index}]{suffix}"


def _inside(where: str, kind: object, expression: str | None) -> str:
    """A FHIRPath inside the resource (`Coverage.status`) rewritten from the parameter (`...resource.status`)."""
    rest = (expression or "").removeprefix(str(kind))
    return f"{where}{rest if rest.startswith(('.', '[')) or not rest else '.' + rest}"


def parse_package_request(body: bytes) -> PackageRequest:
    """The operation's inputs, or InvalidRequest listing every problem with its FHIRPath."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidRequest("the body is not JSON", issues=[Issue("the body is not JSON", "structure")]) from None
    if not isinstance(document, dict) or document.get("resourceType") != "Parameters":
        text = "the body must be a Parameters resource"
        raise InvalidRequest(text, issues=[Issue(text, "structure", expression="resourceType")])
    issues: list[Issue] = []
    coverages: list[tuple[str, dict[str, Any]]] = []
    orders: list[dict[str, Any]] = []
    questionnaires: list[tuple[str, str]] = []
    context: tuple[str, str] | None = None
    changedsince: datetime | None = None
    for index, raw in enumerate(as_list(document.get("parameter"))):
        parameter = as_dict(raw)
        name, resource = parameter.get("name"), as_dict(parameter.get("resource"))
        if name == "coverage":
            where = _param(index, ".resource")
            problems = validate_resource(resource, "Coverage")
            issues += [Issue(p.text, p.code, expression=_inside(where, "Coverage", p.expression)) for p in problems]
            coverages.append((where, resource))
        elif name == "order":
            kind = resource.get("resourceType")
            where = _param(index, ".resource")
            if kind not in ORDER_TYPES:
                text = f"an order is one of {', '.join(ORDER_TYPES)}"
                issues.append(Issue(text, "value", expression=where))
            elif problems := validate_resource(resource, str(kind)):
                issues += [Issue(p.text, p.code, expression=_inside(where, kind, p.expression)) for p in problems]
            else:
                orders.append(resource)
        elif name == "questionnaire":
            value = parameter.get("valueCanonical", parameter.get("valueUri"))
            if not is_canonical(value):
                issues.append(
                    Issue(
                        "questionnaire must be a canonical URL (url or url|version)",
                        "value",
                        expression=_param(index, ".valueCanonical"),
                    )
                )
            else:
                questionnaires.append((str(value), _param(index, ".valueCanonical")))
        elif name == "context":
            value = as_str(parameter.get("valueString", parameter.get("valueId")))
            if value is None or context is not None:
                text = "context is one string (a coverage-assertion-id or a ClaimResponse/Task id)"
                issues.append(Issue(text, "value", expression=_param(index)))
            else:
                context = (value, _param(index, ".valueString"))
        elif name == "changedsince":
            changedsince = parse_datetime(parameter.get("valueDateTime"))
            if changedsince is None:
                text = "changedsince must be a dateTime with a time zone"
                issues.append(Issue(text, "value", expression=_param(index, ".valueDateTime")))
    if len(coverages) != 1:
        text = "exactly one coverage is required" if coverages else "a coverage is required"
        issues.append(Issue(text, "required", expression="Parameters.parameter" if not coverages else coverages[1][0]))
    if not orders and not questionnaires and context is None and not issues:
        text = "at least one of order, questionnaire and context is required (dtr-1)"
        issues.append(Issue(text, "required", expression="Parameters.parameter"))
    if issues:
        more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
        raise InvalidRequest(issues[0].text + more, issues=issues)
    return PackageRequest(coverages[0][1], tuple(orders), tuple(questionnaires), context, changedsince, coverages[0][0])


def order_codes(order: dict[str, Any]) -> list[str]:
    """The codes of what an order orders (every coding of its code element)."""
    element = order.get(_ORDER_CODE.get(str(order.get("resourceType")), ""))
    concepts = element if isinstance(element, list) else [element]
    codings = [as_dict(c) for concept in concepts for c in as_list(as_dict(concept).get("coding"))]
    return [str(c["code"]) for c in codings if isinstance(c.get("code"), str)]


def _reference(resource: dict[str, Any]) -> dict[str, Any] | None:
    if isinstance(resource.get("id"), str):
        return {"reference": f"{resource['resourceType']}/{resource['id']}"}
    return None


def _answer(value: Any, item_type: str) -> dict[str, Any] | None:
    if isinstance(value, dict) and as_list(value.get("coding")) and item_type in ("choice", "open-choice"):
        return {"valueCoding": as_list(value["coding"])[0]}
    if isinstance(value, dict) and "value" in value and item_type == "string":
        return {"valueString": str(value["value"])}  # an Identifier
    if isinstance(value, str) and item_type in ("string", "text"):
        return {"valueString": value}
    if isinstance(value, str) and item_type in ("date", "dateTime"):
        return {f"value{item_type[0].upper()}{item_type[1:]}": value[:10] if item_type == "date" else value}
    return None


_AUTO: Final = {"url": EXT_INFORMATION_ORIGIN, "extension": [{"url": "source", "valueCode": "auto"}]}


def _items(node: dict[str, Any], sources: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    answered: list[dict[str, Any]] = []
    for item in as_list(node.get("item")):
        out: dict[str, Any] = {"linkId": item["linkId"]}
        if item.get("type") == "group":
            children = _items(item, sources)
            if children:
                answered.append({**out, "item": children})
            continue
        definition = as_str(item.get("definition")) or ""
        _, _, path = definition.partition("#")
        rtype, _, element = path.partition(".")
        source = sources.get(rtype)
        if source is None or not element or "." in element:
            continue
        answer = _answer(source.get(element), str(item.get("type")))
        if answer is not None:
            answered.append({**out, "extension": [_AUTO], "answer": [answer]})
    return answered


def questionnaire_response(
    questionnaire: dict[str, Any], coverage: dict[str, Any], orders: Sequence[dict[str, Any]], now: datetime, qr_id: str
) -> dict[str, Any]:
    """The package's in-progress QuestionnaireResponse: subject, coverage and orders as context, prefilled."""
    sources = {str(o.get("resourceType")): o for o in reversed(orders)} | {"Coverage": coverage}
    context = [ref for ref in (_reference(r) for r in (coverage, *orders)) if ref is not None]
    response: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": qr_id,
        "meta": {"profile": [PROFILE_QR]},
        "extension": [{"url": EXT_QR_CONTEXT, "valueReference": ref} for ref in context],
        "questionnaire": f"{questionnaire['url']}|{questionnaire['version']}",
        "status": "in-progress",
        "subject": as_dict(coverage.get("beneficiary")),
        "authored": now.isoformat(),
    }
    answered = _items(questionnaire, sources)
    if answered:
        response["item"] = answered
    return response


def package_bundle(entries: Sequence[dict[str, Any]], response: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "meta": {"profile": [PROFILE_PACKAGE_BUNDLE]},
        "type": "collection",
        "timestamp": now.isoformat(),
        "entry": [*entries, {"resource": response}],
    }


def package_output(bundles: Sequence[dict[str, Any]], outcome: dict[str, Any] | None) -> dict[str, Any]:
    """The output Parameters: one `PackageBundle` per questionnaire, then the `Outcome` when there is one."""
    parameters = [{"name": "PackageBundle", "resource": bundle} for bundle in bundles]
    if outcome is not None:
        parameters.append({"name": "Outcome", "resource": outcome})
    document: dict[str, Any] = {"resourceType": "Parameters", "meta": {"profile": [PROFILE_OUTPUT]}}
    if parameters:
        document["parameter"] = parameters
    return document
