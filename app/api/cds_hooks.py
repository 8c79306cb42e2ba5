"""CDS Hooks 2.0 routes of the CRD service: `GET /cds-services` and `POST /cds-services/{id}`.

Discovery is public (as CDS Hooks expects). Hook calls use the service's own bearer tokens
(`POST /auth/token`, scope `system/Claim.write`), or the development principal in development
mode; CDS Hooks' EHR-signed JWTs are not accepted yet (see docs/coverage-rules.md).
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.api.deps import RuntimeDep
from app.api.security import require
from app.errors import InvalidRequest, PayloadTooLarge
from app.fhir.limits import ParseLimits, check_json_limits
from app.requirements import answer_hook, discovery
from app.security.principal import CLAIM_CREATE, Principal

router = APIRouter(prefix="/cds-services", tags=["CDS Hooks (Da Vinci CRD)"])


def _json(document: dict[str, Any]) -> Response:
    return Response(orjson.dumps(document), media_type="application/json")


@router.get("", summary="CDS Hooks discovery: the CRD services")
async def services() -> Response:
    return _json(discovery())


@router.post("/{service_id}", summary="Call a CRD service (order-sign, appointment-book, ...)")
async def call_service(
    service_id: str,
    request: Request,
    runtime: RuntimeDep,
    principal: Annotated[Principal, require(CLAIM_CREATE)],
) -> Response:
    body = await request.body()
    if len(body) > runtime.settings.max_body_bytes:
        raise PayloadTooLarge(f"the body exceeds {runtime.settings.max_body_bytes} bytes")
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidRequest("the body is not JSON") from None
    if not isinstance(document, dict):
        raise InvalidRequest("the body must be a CDS Hooks request object")
    check_json_limits(document, ParseLimits(), "request")  # nesting, sizes, no control characters
    return _json(await answer_hook(runtime, principal, service_id, document))
