"""DTR 2.2.0 payer service routes (docs/dtr.md): `Questionnaire/$questionnaire-package`, `ValueSet/$expand`,
`Questionnaire/$log-questionnaire-errors`, `Questionnaire/$next-question`, and the operations view of
the logged errors.

Scopes `system/Questionnaire.r` and `system/ValueSet.r` (or their v1 `.read`). A bad request is one
400 OperationOutcome naming every problem by FHIRPath; an unknown `context` or value set is 404.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.api.deps import RuntimeDep, SessionDep
from app.api.fhir_claims import fhir_response, read_fhir_body
from app.api.security import require
from app.documentation import (
    answer_next_question,
    expand_value_set,
    log_questionnaire_errors,
    questionnaire_error_reports,
    questionnaire_package,
)
from app.errors import Issue
from app.fhir.dtr_adaptive import parse_next_question
from app.fhir.dtr_errors import parse_reported_errors
from app.fhir.dtr_expand import expand_parameters, expand_request
from app.fhir.dtr_package import parse_package_request
from app.fhir.media import FHIR_JSON
from app.fhir.outcome import operation_outcome
from app.security.principal import AUTHORIZATIONS_READ, QUESTIONNAIRE_R, VALUESET_R, Principal

router = APIRouter(prefix="/fhir", tags=["FHIR (Da Vinci DTR)"])
ops_router = APIRouter(prefix="/dtr", tags=["DTR"])

_FHIR_BODY: dict[int | str, dict[str, Any]] = {
    200: {"content": {FHIR_JSON: {"schema": {"type": "object"}}}, "description": "Parameters (DTR package output)"},
}
_REQUEST_BODY = {"requestBody": {"required": True, "content": {FHIR_JSON: {"schema": {"type": "object"}}}}}


@router.post(
    "/Questionnaire/$questionnaire-package",
    summary="The payer's questionnaire packages for a coverage and orders (Da Vinci DTR 2.2.0)",
    description="Parameters with `coverage` (1..1), `order` (0..*), `questionnaire` (0..* canonicals), "
    "`context` (a CRD coverage-assertion-id) and `changedsince`. Answers Parameters with one `PackageBundle` "
    "per questionnaire (the Questionnaire, its Libraries recursively, its ValueSets, an in-progress "
    "QuestionnaireResponse) and an `Outcome` with warnings. Scope `system/Questionnaire.r`.",
    responses=_FHIR_BODY,
    openapi_extra=_REQUEST_BODY,
)
async def package(
    request: Request, runtime: RuntimeDep, principal: Annotated[Principal, require(QUESTIONNAIRE_R)]
) -> Response:
    body = await read_fhir_body(request, runtime.settings.max_body_bytes)
    return fhir_response(await questionnaire_package(runtime, principal, parse_package_request(body)))


_EXPAND = (
    "A value set the payers' questionnaires use, expanded (`url`, `valueSetVersion`, `filter`, `offset`, `count`)."
)


@router.get(
    "/ValueSet/$expand", summary="Expand a questionnaire package's value set", description=_EXPAND, responses=_FHIR_BODY
)
async def expand_get(
    runtime: RuntimeDep,
    _principal: Annotated[Principal, require(VALUESET_R)],
    url: Annotated[str | None, Query(max_length=1000)] = None,
    value_set_version: Annotated[str | None, Query(alias="valueSetVersion", max_length=64)] = None,
    filter_text: Annotated[str | None, Query(alias="filter", max_length=200)] = None,
    offset: Annotated[int | None, Query(ge=0, le=1_000_000)] = None,
    count: Annotated[int | None, Query(ge=0, le=1_000_000)] = None,
) -> Response:
    values = {"url": url, "valueSetVersion": value_set_version, "filter": filter_text, "offset": offset, "count": count}
    wanted = expand_request({k: v for k, v in values.items() if v is not None}, {})
    return fhir_response(expand_value_set(runtime.questionnaires.current, wanted, runtime.clock()))


@router.post(
    "/ValueSet/$expand",
    summary="Expand a questionnaire package's value set (Parameters)",
    description=_EXPAND,
    responses=_FHIR_BODY,
    openapi_extra=_REQUEST_BODY,
)
async def expand_post(
    request: Request, runtime: RuntimeDep, _principal: Annotated[Principal, require(VALUESET_R)]
) -> Response:
    wanted = expand_parameters(await read_fhir_body(request, runtime.settings.max_body_bytes))
    return fhir_response(expand_value_set(runtime.questionnaires.current, wanted, runtime.clock()))


@router.post(
    "/Questionnaire/$log-questionnaire-errors",
    summary="Report problems with a payer's questionnaire or its CQL (stored without PHI)",
    description="Parameters with `questionnaire` canonicals and an `outcome` OperationOutcome. Kept: each issue's "
    "severity, code, coded details and FHIRPath location; free text is dropped. Scope `system/Questionnaire.r`.",
    responses=_FHIR_BODY,
    openapi_extra=_REQUEST_BODY,
)
async def log_errors(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    principal: Annotated[Principal, require(QUESTIONNAIRE_R)],
) -> Response:
    reported = parse_reported_errors(await read_fhir_body(request, runtime.settings.max_body_bytes))
    kept = await log_questionnaire_errors(session, runtime.clock, principal, reported)
    text = f"logged {kept} issue(s); thank you"
    return fhir_response(operation_outcome([Issue(text, "informational", "information")]))


@ops_router.get("/questionnaire-errors", summary="The newest questionnaire errors DTR clients logged")
async def logged_errors(
    session: SessionDep,
    principal: Annotated[Principal, require(AUTHORIZATIONS_READ)],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    return {"reports": await questionnaire_error_reports(session, principal, limit)}


@router.post(
    "/Questionnaire/$next-question",
    summary="The next question of an adaptive questionnaire (SDC), or the response completed",
    description="An adaptive QuestionnaireResponse (or a Parameters with it as `in`) containing its Questionnaire, "
    "derivedFrom the payer's adaptive Questionnaire. Answers the response with the next enabled item added "
    "(enableWhen, FHIRPath enableWhenExpression), or `completed`. Scope `system/Questionnaire.r`.",
    responses=_FHIR_BODY,
    openapi_extra=_REQUEST_BODY,
)
async def next_question(
    request: Request, runtime: RuntimeDep, _principal: Annotated[Principal, require(QUESTIONNAIRE_R)]
) -> Response:
    response = parse_next_question(await read_fhir_body(request, runtime.settings.max_body_bytes))
    return fhir_response(answer_next_question(runtime.questionnaires.current, response))
