"""`Questionnaire/$log-questionnaire-errors` (DTR 2.2.0): the reported issues, reduced to what is kept.

The input is a Parameters with `questionnaire` canonicals (0..*, SHOULD be version-specific) and an
OperationOutcome (`outcome`; the 2.1 name `OperationOutcome` is accepted too). DTR forbids PHI in it,
but the hub does not rely on that: of each issue it keeps only the severity, the code, the codes of
`details` and the FHIRPath `expression`/`location`; `details.text` and `diagnostics` are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import orjson

from app.errors import InvalidRequest, Issue
from app.fhir.dtr import is_canonical, validate_resource
from app.fhir.elements import as_dict, as_list

MAX_ISSUES: Final = 200
MAX_TEXT: Final = 255


@dataclass(frozen=True, slots=True)
class ReportedErrors:
    questionnaires: tuple[str, ...]
    issues: tuple[dict[str, Any], ...]


def _kept(issue: dict[str, Any]) -> dict[str, Any]:
    codes = [
        f"{c.get('system') or ''}|{c.get('code')}"[:MAX_TEXT]
        for c in map(as_dict, as_list(as_dict(issue.get("details")).get("coding")))
        if isinstance(c.get("code"), str)
    ]
    where = [str(e)[:MAX_TEXT] for e in [*as_list(issue.get("expression")), *as_list(issue.get("location"))]]
    kept: dict[str, Any] = {"severity": issue.get("severity"), "code": issue.get("code")}
    if codes:
        kept["details"] = codes[:10]
    if where:
        kept["expression"] = where[:10]
    return kept


def _bad(text: str, expression: str, code: str = "value") -> InvalidRequest:
    return InvalidRequest(text, issues=[Issue(text, code, expression=expression)])


def parse_reported_errors(body: bytes) -> ReportedErrors:
    """The canonicals and kept issues, or InvalidRequest naming the parameter."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise _bad("the body is not JSON", "Parameters", "structure") from None
    if not isinstance(document, dict) or document.get("resourceType") != "Parameters":
        raise _bad("the body must be a Parameters resource", "resourceType", "structure")
    questionnaires: list[str] = []
    issues: list[dict[str, Any]] = []
    outcomes = 0
    for index, raw in enumerate(as_list(document.get("parameter"))):
        parameter = as_dict(raw)
        name = parameter.get("name")
        if name == "questionnaire":
            value = parameter.get("valueCanonical")
            if not is_canonical(value) or len(str(value)) > MAX_TEXT:
                raise _bad("questionnaire must be a canonical URL", f"Parameters.parameter[{index}].valueCanonical")
            questionnaires.append(str(value))
        elif name in ("outcome", "OperationOutcome"):
            where = f"Parameters.parameter[{index}].resource"
            outcome = as_dict(parameter.get("resource"))
            problems = validate_resource(outcome, "OperationOutcome")
            if problems:
                raise _bad(f"not a valid OperationOutcome: {problems[0].text}", where)
            outcomes += 1
            issues += [_kept(as_dict(issue)) for issue in as_list(outcome.get("issue"))]
    if not outcomes:
        raise _bad("an outcome (OperationOutcome) is required", "Parameters.parameter", "required")
    if len(issues) > MAX_ISSUES:
        raise _bad(f"at most {MAX_ISSUES} issues per call", "Parameters.parameter", "too-costly")
    return ReportedErrors(tuple(questionnaires), tuple(issues))
