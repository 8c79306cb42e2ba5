"""`POST /fhir/$submit-attachment` (Da Vinci CDex 2.1): documents a payer asked for, for a prior authorization.

A Parameters with `TrackingId` (the authorization's preAuthRef or its Claim identifier), `AttachTo`,
the payer and member identifiers and one or more `Attachment` parts. Answers 200 with an
OperationOutcome saying how many documents were stored and the authorization's status now; an unknown
TrackingId (or one of another client) answers 422 naming it.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.api.auditing import AuditDep
from app.api.deps import RuntimeDep
from app.api.fhir_claims import fhir_response, read_fhir_body
from app.api.security import require
from app.authorizations.attachments import submit_attachment
from app.documentation import asked_questionnaire_findings
from app.errors import Issue
from app.fhir.attachments import parse_submit_attachment
from app.fhir.dtr_responses import attached_responses
from app.fhir.media import FHIR_JSON
from app.fhir.outcome import operation_outcome
from app.security.principal import CLAIM_CREATE, Principal

router = APIRouter(prefix="/fhir", tags=["FHIR (Da Vinci CDex)"])

_FHIR_BODY: dict[int | str, dict[str, Any]] = {
    200: {"content": {FHIR_JSON: {"schema": {"type": "object"}}}, "description": "OperationOutcome"},
}
_REQUEST_BODY = {"requestBody": {"required": True, "content": {FHIR_JSON: {"schema": {"type": "object"}}}}}


@router.post(
    "/$submit-attachment",
    summary="Send the documents a payer asked for (CDex $submit-attachment)",
    description="A CDex Parameters: `TrackingId` (the authorization number or Claim identifier), `AttachTo` "
    "(preauthorization or claim), `PayerId`, `MemberId` and `Attachment` parts whose `Content` is a "
    "DocumentReference, QuestionnaireResponse or other resource. When the payer asked for a questionnaire the "
    "hub packages, a QuestionnaireResponse to it is checked first (required answers, answer types, version): "
    "errors answer 422 and nothing is stored. Each document is stored once (by sha256), "
    "linked to the authorization and forwarded to the payer. Scope `system/Claim.write`.",
    responses=_FHIR_BODY,
    openapi_extra=_REQUEST_BODY,
)
async def submit_attachment_route(
    request: Request, runtime: RuntimeDep, principal: Annotated[Principal, require(CLAIM_CREATE)], audit: AuditDep
) -> Response:
    entry = audit.record("claim.submit-attachment", "Claim")
    body = await read_fhir_body(request, runtime.settings.max_body_bytes)
    submission = parse_submit_attachment(body, max_attachment_bytes=runtime.settings.max_attachment_bytes)
    catalog = runtime.questionnaires.current

    def check(asked: str) -> list[Issue]:  # DTR: answers to the questionnaire the payer asked for (docs/dtr.md)
        return asked_questionnaire_findings(catalog, asked, attached_responses(orjson.loads(body)))

    result = await submit_attachment(runtime, principal, submission, check)
    entry.add(result.authorization_id)
    text = (
        f"{result.stored} attachment(s) stored ({result.duplicates} sent before) for authorization "
        f"{result.authorization_id}; its status is {result.status}"
    )
    return fhir_response(operation_outcome([Issue(text=text, code="informational", severity="information")]))
