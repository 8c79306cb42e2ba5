"""PAS closes the DTR loop: QuestionnaireResponses a PAS request carries, checked against their questionnaire.

A QuestionnaireResponse the Claim names in `supportingInfo` (valueReference into the Bundle) whose
`questionnaire` is one the hub packages is checked: answers to a version that is not the current
one, required items (enabled by the answers) without an answer, and answers of the wrong type are
findings ("documentation-incomplete"), each with the FHIRPath of the response or answer in the Bundle.
Responses to questionnaires the hub does not know are left to the payer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from app.errors import Issue
from app.fhir.dtr_adaptive import ANSWER_TYPES, enabled
from app.fhir.elements import as_dict, as_list
from app.fhir.references import BundleIndex

Lookup = Callable[[str], dict[str, Any] | None]  # canonical (url or url|version) -> Questionnaire


def _flat(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for item in map(as_dict, as_list(node.get("item"))):
        yield item
        yield from _flat(item)


def _answered(response: dict[str, Any], path: str) -> dict[str, tuple[str, list[dict[str, Any]]]]:
    found: dict[str, tuple[str, list[dict[str, Any]]]] = {}

    def walk(node: dict[str, Any], where: str) -> None:
        for index, item in enumerate(map(as_dict, as_list(node.get("item")))):
            here = f"{where}.item[{index}]"
            answers = [as_dict(a) for a in as_list(item.get("answer"))]
            if answers:
                found[str(item.get("linkId"))] = (here, answers)
            walk(item, here)
            for position, answer in enumerate(answers):
                walk(answer, f"{here}.answer[{position}]")

    walk(response, path)
    return found


def _finding(text: str, expression: str) -> Issue:
    return Issue(f"documentation-incomplete: {text}", "business-rule", "warning", expression)


def check_response(
    questionnaire: dict[str, Any], current: dict[str, Any], response: dict[str, Any], path: str
) -> list[Issue]:
    """The findings for one response (at `path` in the Bundle) against its questionnaire and the current version."""
    issues: list[Issue] = []
    answered = str(response.get("questionnaire") or "").partition("|")[2] or None
    if answered is not None and answered != current.get("version"):
        issues.append(
            _finding(
                f"answers version {answered} of {current.get('url')}; the current version is {current.get('version')}",
                f"{path}.questionnaire",
            )
        )
    answers = _answered(response, path)
    for item in _flat(questionnaire):
        link_id, kind = str(item.get("linkId")), str(item.get("type"))
        if kind in ("group", "display"):
            continue
        if link_id in answers:
            where, given = answers[link_id]
            wanted = ANSWER_TYPES.get(kind)
            for index, answer in enumerate(given):
                if wanted and wanted not in answer and not (kind == "open-choice" and "valueString" in answer):
                    issues.append(_finding(f"item {link_id} takes {wanted}", f"{where}.answer[{index}]"))
        elif item.get("required") and enabled(item, response, answers):
            issues.append(_finding(f"required item {link_id} ({item.get('text', '')}) is not answered", f"{path}.item"))
    return issues


def supporting_responses(bundle: dict[str, Any], index: BundleIndex) -> Iterator[tuple[dict[str, Any], str]]:
    """Each QuestionnaireResponse the Claim (entry 0) names in supportingInfo, with its FHIRPath in the Bundle."""
    claim = as_dict(as_dict(as_list(bundle.get("entry"))[0] if as_list(bundle.get("entry")) else {}).get("resource"))
    for info in map(as_dict, as_list(claim.get("supportingInfo"))):
        reference = as_dict(info.get("valueReference")).get("reference")
        if not isinstance(reference, str):
            continue
        position = index.index_of(reference, 0)
        resource = index.resolve(reference, 0)
        if position is not None and resource is not None and resource.get("resourceType") == "QuestionnaireResponse":
            yield resource, f"Bundle.entry[{position}].resource"


def response_findings(bundle: dict[str, Any], index: BundleIndex, exact: Lookup, latest: Lookup) -> list[Issue]:
    """Findings for every supporting QuestionnaireResponse to a questionnaire the hub packages."""
    issues: list[Issue] = []
    for response, path in supporting_responses(bundle, index):
        canonical = str(response.get("questionnaire") or "")
        current = latest(canonical.partition("|")[0])
        if current is None:
            continue
        questionnaire = exact(canonical) or current
        issues += check_response(questionnaire, current, response, path)
    return issues


def attached_responses(parameters: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """The QuestionnaireResponses a (parsed) CDex `$submit-attachment` Parameters carries, with their FHIRPaths."""
    found: list[tuple[dict[str, Any], str]] = []
    for index, parameter in enumerate(map(as_dict, as_list(parameters.get("parameter")))):
        if parameter.get("name") != "Attachment":
            continue
        path = f"Parameters.parameter[{index}]"
        candidates = [(as_dict(parameter.get("resource")), f"{path}.resource")]
        for position, part in enumerate(map(as_dict, as_list(parameter.get("part")))):
            if part.get("name") == "Content":
                candidates.append((as_dict(part.get("resource")), f"{path}.part[{position}].resource"))
        found += [(r, where) for r, where in candidates if r.get("resourceType") == "QuestionnaireResponse"]
    return found
