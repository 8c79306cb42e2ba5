"""DTR 2.2.0 payer service routes: `POST /fhir/Questionnaire/$questionnaire-package` (docs/dtr.md).

Scope `system/Questionnaire.r` (or v1 `system/Questionnaire.read`). A bad request is one 400
OperationOutcome naming every problem by FHIRPath; an unknown `context` is 404.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.api.deps import RuntimeDep
from app.api.fhir_claims import fhir_response, read_fhir_body
from app.api.security import require
from app.documentation import questionnaire_package
from app.fhir.dtr_package import parse_package_request
from app.fhir.media import FHIR_JSON
from app.security.principal import QUESTIONNAIRE_R, Principal

router = APIRouter(prefix="/fhir", tags=["FHIR (Da Vinci DTR)"])

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
