"""FHIR routes of PAS: Claim/$submit, Claim/$inquire, ClaimResponse read/search, metadata."""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app import __version__
from app.api.auditing import AuditDep
from app.api.deps import RuntimeDep
from app.api.security import require
from app.authorizations import (
    ClaimResponseSearch,
    TokenCriterion,
    claim_response,
    inquire,
    search_claim_responses,
    submit_prior_auth,
)
from app.documentation import check_submitted_answers
from app.domain import bounds
from app.errors import NotFound, PayloadTooLarge, UnsupportedMediaType
from app.fhir.capability import capability_statement
from app.fhir.inquiry import parse_inquire, render_inquiry_result
from app.fhir.media import FHIR_JSON, is_fhir_json, media_format
from app.fhir.searchset import parse_search, searchset, strict_handling
from app.fhir.submit import parse_submit
from app.fhir.subscription import PAS_TOPIC
from app.fhir.xml import XmlLimits, xml_to_json
from app.metrics.submits import record_submit
from app.security.principal import CLAIM_CREATE, CLAIM_RESPONSE_R, CLAIM_RESPONSE_S, Principal

router = APIRouter(prefix="/fhir", tags=["FHIR (Da Vinci PAS)"])

_FHIR_BODY: dict[int | str, dict[str, Any]] = {
    200: {"content": {FHIR_JSON: {"schema": {"type": "object"}}}, "description": "FHIR resource"},
}
_REQUEST_BODY = {"requestBody": {"required": True, "content": {FHIR_JSON: {"schema": {"type": "object"}}}}}


def fhir_response(
    document: dict[str, Any] | bytes, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    body = document if isinstance(document, bytes) else orjson.dumps(document)
    return Response(body, status_code=status_code, media_type=FHIR_JSON, headers=headers)


async def read_fhir_body(request: Request, limit: int) -> bytes:
    """The request body as FHIR JSON, refused early when too large or neither FHIR JSON nor XML.

    Routes call this after their security dependency, so no body is read or converted for a caller
    not yet authenticated. An XML body becomes the JSON a JSON client would have sent, in a worker
    thread (the conversion is CPU work) and within the XML limits (`app.fhir.xml.XmlLimits`).
    """
    content_type = request.headers.get("content-type")
    xml = bool(content_type) and media_format(content_type or "") == "xml"
    if not xml and not is_fhir_json(content_type):
        raise UnsupportedMediaType(
            "send application/fhir+json or application/fhir+xml, not "
            + (request.headers.get("content-type") or "nothing")
        )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body exceeds {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body exceeds {limit} bytes")
        chunks.append(chunk)
    if xml:
        settings = request.app.state.runtime.settings
        limits = XmlLimits(settings.max_xml_elements, settings.max_xml_depth, settings.max_xml_repeats)
        return await anyio.to_thread.run_sync(xml_to_json, b"".join(chunks), limits)
    return b"".join(chunks)


@router.post(
    "/Claim/$submit",
    summary="Submit a PAS prior-authorization request Bundle",
    description="A PAS request Bundle (or a Parameters with it as `resource`): a new request, a PASClaimUpdate "
    "(`Claim.related`) or a cancel (certificationType 3). Answers 200 with the PAS response Bundle "
    "(ClaimResponse first, then the Claim and what the answer references, as sent) and `Location` of the "
    "ClaimResponse; the same Bundle again answers the same response (idempotent on `Bundle.identifier`). "
    "Scope `system/Claim.write`.",
    responses=_FHIR_BODY,
    openapi_extra=_REQUEST_BODY,
)
async def submit(
    request: Request, runtime: RuntimeDep, principal: Annotated[Principal, require(CLAIM_CREATE)], audit: AuditDep
) -> Response:
    entry = audit.record("claim.submit", "Claim")
    body = await read_fhir_body(request, runtime.settings.max_body_bytes)
    parsed = parse_submit(body)
    check_submitted_answers(runtime, parsed)  # DTR: QuestionnaireResponse findings warn, or refuse (on_findings)
    result = await submit_prior_auth(runtime, principal, parsed, entry)
    if not result.audited:
        entry.add(result.authorization_id)
    record_submit(request.app.state.instruments, result.payer_id, result.status, replayed=result.replayed)
    headers = {"Location": f"{runtime.settings.base_url}/fhir/ClaimResponse/{result.authorization_id}"}
    return fhir_response(result.body, result.status_code, headers)


@router.post(
    "/Claim/$inquire",
    summary="Ask for the current decision on earlier requests",
    description="A PAS inquiry Bundle naming the patient, provider and payer, narrowed by Claim identifier, "
    "authorization number (`insurance.preAuthRef`), service codes and dates; an item whose productOrService is "
    "`data-absent-reason#not-applicable` asks about any service. Answers a Parameters with one `return` "
    "(a PAS Inquiry Response Bundle) per current authorization. Scope `system/Claim.write`.",
    responses=_FHIR_BODY,
    openapi_extra=_REQUEST_BODY,
)
async def inquire_route(
    request: Request, runtime: RuntimeDep, principal: Annotated[Principal, require(CLAIM_CREATE)], audit: AuditDep
) -> Response:
    entry = audit.record("claim.inquire", "ClaimResponse")
    body = await read_fhir_body(request, runtime.settings.max_body_bytes)
    bundles = await inquire(runtime, principal, parse_inquire(body))
    entry.add(*(bundle["entry"][0]["resource"]["id"] for bundle in bundles))
    return fhir_response(render_inquiry_result(bundles))


def _versioned(resource: dict[str, Any]) -> Response:
    version = resource.get("meta", {}).get("versionId")
    return fhir_response(resource, headers={"ETag": f'W/"{version}"'} if version else None)


@router.get(
    "/ClaimResponse/{claim_response_id}",
    summary="Read a ClaimResponse",
    description="The current ClaimResponse of one of the caller's requests (its id is the `Location` of the "
    "`$submit` answer), with `meta.versionId` and an `ETag`. Unknown or malformed ids answer 404.",
    responses=_FHIR_BODY,
)
async def read_claim_response(
    claim_response_id: str,
    runtime: RuntimeDep,
    principal: Annotated[Principal, require(CLAIM_RESPONSE_R)],
    audit: AuditDep,
) -> Response:
    audit.record("claimresponse.read", "ClaimResponse", [claim_response_id])
    return _versioned(await claim_response(runtime, principal, claim_response_id))


@router.get(
    "/ClaimResponse/{claim_response_id}/_history/{version_id}",
    summary="Read a version of a ClaimResponse",
    description="The ClaimResponse as of `version_id` when that is its current version (earlier versions are "
    "not kept: 404, like an unknown id).",
    responses=_FHIR_BODY,
)
async def vread_claim_response(
    claim_response_id: str,
    version_id: str,
    runtime: RuntimeDep,
    principal: Annotated[Principal, require(CLAIM_RESPONSE_R)],
    audit: AuditDep,
) -> Response:
    audit.record("claimresponse.read", "ClaimResponse", [claim_response_id])
    resource = await claim_response(runtime, principal, claim_response_id)
    if resource.get("meta", {}).get("versionId") != version_id:
        raise NotFound(f"ClaimResponse/{claim_response_id}/_history/{version_id} is not kept")
    return _versioned(resource)


_SEARCH_PARAMETERS = frozenset({"identifier", "patient.identifier"})


@router.get(
    "/ClaimResponse",
    summary="Search ClaimResponses by identifier and patient.identifier (token search, paged)",
    description="A searchset Bundle of the caller's current ClaimResponses: `identifier` (`value`, `system|value`, "
    "`|value`) matches the ClaimResponse id, the Claim identifier or the authorization number; "
    "`patient.identifier` (the same token forms) any of the Patient's identifiers or the member id; `_count` and the "
    "`next` link page. Scope `system/ClaimResponse.read`.",
    responses=_FHIR_BODY,
)
async def search_claim_response(
    request: Request,
    runtime: RuntimeDep,
    principal: Annotated[Principal, require(CLAIM_RESPONSE_S)],
    audit: AuditDep,
    identifier: Annotated[str | None, Query(max_length=256)] = None,
    patient_identifier: Annotated[
        str | None, Query(alias="patient.identifier", max_length=bounds.IDENTIFIER_KEY_LENGTH)
    ] = None,
    count: Annotated[str | None, Query(alias="_count", max_length=8)] = None,
    cursor: Annotated[str | None, Query(alias="_cursor", max_length=256)] = None,
) -> Response:
    entry = audit.record("claimresponse.search", "ClaimResponse")
    strict = strict_handling(request.headers.get("prefer"))
    parameters = parse_search(request.query_params.multi_items(), _SEARCH_PARAMETERS, strict=strict)
    patient = parameters.get("patient.identifier")
    token = parameters.get("identifier")
    search = ClaimResponseSearch(
        identifier=TokenCriterion.parse(token) if token else None,
        patient=TokenCriterion.parse(patient) if patient else None,
    )
    resources, total, next_cursor = await search_claim_responses(
        runtime, principal, search, cursor=parameters.cursor, limit=parameters.count
    )
    entry.add(*(r["id"] for r in resources))
    url = f"{runtime.settings.base_url}/fhir/ClaimResponse"
    return fhir_response(searchset(resources, total=total, url=url, parameters=parameters, next_cursor=next_cursor))


@router.get(
    "/metadata",
    summary="The CapabilityStatement",
    description="What this FHIR server does: PAS operations, interactions, profiles, the SMART token URL. "
    "No token needed.",
    responses=_FHIR_BODY,
)
async def metadata(runtime: RuntimeDep) -> Response:
    settings = runtime.settings
    return fhir_response(
        capability_statement(
            settings.base_url,
            software_version=__version__,
            development=settings.development,
            subscription_topics=(PAS_TOPIC,),
        )
    )
