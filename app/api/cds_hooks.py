"""CDS Hooks 2.0 routes of the CRD service: `GET /cds-services` and `POST /cds-services/{id}`.

Discovery is public (as CDS Hooks expects). A hook call carries either a JWT the EHR signed for
this service (CDS Hooks 2.0 "Trusting CDS Clients": app.security.cds_client; `aud` is the
service's URL) or one of the service's own access tokens (`POST /auth/token`, SMART Backend
Services); either way the client must be registered with scope `system/Claim.write` (or `.c`).
In development mode a call without a token acts as the development principal.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.api.middleware import CLIENT_ID_STATE
from app.api.security import bearer, current_principal, rate_limited
from app.errors import Forbidden, InvalidRequest, PayloadTooLarge
from app.fhir.limits import ParseLimits, check_json_limits
from app.requirements import answer_hook, discovery
from app.runtime import Runtime
from app.security.cds_client import CdsJwtContext, is_cds_client_jwt, verify_cds_client_jwt
from app.security.principal import CLAIM_CREATE, Principal
from app.security.registry import allowed_scopes, principal_for
from app.security.state import SecurityState

router = APIRouter(prefix="/cds-services", tags=["CDS Hooks (Da Vinci CRD)"])


def _json(document: dict[str, Any]) -> Response:
    return Response(orjson.dumps(document), media_type="application/json")


@router.get("", summary="CDS Hooks discovery: the CRD services")
async def services() -> Response:
    return _json(discovery())


async def cds_caller(service_id: str, request: Request) -> Principal:
    """The EHR that signed the hook call's JWT, or the holder of a SMART access token; 401 / 403 otherwise.

    Called by the route itself rather than declared as a dependency, and the runtime, the security state and
    the bearer credentials are read here rather than declared either: a hook call is the hot path, and each
    declared dependency costs FastAPI a resolution per call (with its own copy of the path parameter to
    validate). The route declares the bearer scheme in its OpenAPI operation instead (`openapi_extra`)."""
    runtime: Runtime = request.app.state.runtime
    security: SecurityState = request.app.state.security
    credentials = await bearer(request)
    if credentials is not None and is_cds_client_jwt(credentials.credentials):
        context = CdsJwtContext(
            engine=runtime.engine, replay=security.replay, jwks=security.jwks, token_url=security.token_url
        )
        audience = f"{runtime.settings.base_url}/cds-services/{service_id}"
        registration = await verify_cds_client_jwt(credentials.credentials, audience, context)
        principal = rate_limited(security, principal_for(registration, allowed_scopes(registration)))
        setattr(request.state, CLIENT_ID_STATE, principal.client_id)
    else:
        principal = await current_principal(request, runtime, security, credentials)
    if not principal.has(CLAIM_CREATE):
        raise Forbidden(f"the client lacks the scope {CLAIM_CREATE}")
    return principal


@router.post(
    "/{service_id}",
    summary="Call a CRD service (order-sign, appointment-book, ...)",
    openapi_extra={"security": [{bearer.scheme_name: []}]},  # the bearer is read in cds_caller, not declared
)
async def call_service(service_id: str, request: Request) -> Response:
    principal = await cds_caller(service_id, request)
    runtime: Runtime = request.app.state.runtime
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
