"""`POST /fhir/Claim/$validate`: what would likely get a PAS request denied or delayed, before it is sent.

Takes the same Bundle as `$submit`; stores nothing and calls no payer. Answers 200 with an
OperationOutcome (FHIR `$validate` style) whether or not problems are found: structural problems
(the ones `$submit` refuses with 400), coverage findings and, for the QuestionnaireResponses the Claim's
`supportingInfo` names, `documentation-incomplete` findings (docs/dtr.md), each with a FHIRPath expression.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.api.deps import RuntimeDep
from app.api.fhir_claims import fhir_response, read_fhir_body
from app.api.security import require
from app.documentation import graded_findings
from app.errors import InvalidRequest
from app.fhir.media import FHIR_JSON
from app.fhir.outcome import operation_outcome
from app.fhir.submit import parse_submit
from app.requirements import validate_submission
from app.security.principal import CLAIM_CREATE, Principal

router = APIRouter(prefix="/fhir", tags=["FHIR (Da Vinci PAS)"])

_FHIR_BODY: dict[int | str, dict[str, Any]] = {
    200: {"content": {FHIR_JSON: {"schema": {"type": "object"}}}, "description": "OperationOutcome"},
}
_REQUEST_BODY = {"requestBody": {"required": True, "content": {FHIR_JSON: {"schema": {"type": "object"}}}}}


@router.post(
    "/Claim/$validate",
    summary="Check a PAS request Bundle for likely denial or delay (nothing stored, no payer call)",
    responses=_FHIR_BODY,
    openapi_extra=_REQUEST_BODY,
)
async def validate(
    request: Request, runtime: RuntimeDep, principal: Annotated[Principal, require(CLAIM_CREATE)]
) -> Response:
    body = await read_fhir_body(request, runtime.settings.max_body_bytes)
    try:
        parsed = parse_submit(body)
    except InvalidRequest as exc:
        return fhir_response(operation_outcome(exc.issues))
    issues = await validate_submission(runtime, principal, parsed)
    issues += graded_findings(runtime, parsed)[0]  # DTR answers (errors when the payer's rules refuse findings)
    return fhir_response(operation_outcome(issues))
