"""SMART Backend Services: `POST /auth/token` (client credentials + signed JWT assertion) and
`GET /.well-known/smart-configuration` (also at the FHIR base, `/fhir/.well-known/...`, as SMART asks).

Scopes may be asked in SMART v1 (`system/Claim.write`) or v2 (`system/Claim.c`, `.rs`, `.cruds`)
form, with `*` resources; a requested scope is granted as asked when one the client is registered
for covers it (app.security.scopes), and a wildcard wider than the registration gets the registered
scopes it covers.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.api.auditing import open_audit
from app.api.deps import RuntimeDep
from app.api.security import SecurityDep
from app.security.assertion import AssertionContext, verify_client_assertion
from app.security.errors import OAuthError, TokenRequestsThrottled
from app.security.principal import (
    ADMIN,
    ALL_SCOPES,
    CLAIM_CREATE,
    CLAIM_RESPONSE_R,
    CLAIM_RESPONSE_S,
    SUBSCRIPTION_C,
    SUBSCRIPTION_D,
    SUBSCRIPTION_R,
    SUBSCRIPTION_S,
    SUBSCRIPTION_U,
)
from app.security.ratelimit import RateLimiter
from app.security.registry import SIGNING_ALGORITHMS, allowed_scopes
from app.security.scopes import granted_by_any, grants, narrowed

log = logging.getLogger(__name__)

router = APIRouter(tags=["auth"])

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_FORM_BYTES = 32 * 1024
V2_SCOPES = {
    CLAIM_CREATE,
    CLAIM_RESPONSE_R,
    CLAIM_RESPONSE_S,
    "system/ClaimResponse.rs",
    SUBSCRIPTION_C,
    SUBSCRIPTION_R,
    SUBSCRIPTION_U,
    SUBSCRIPTION_D,
    SUBSCRIPTION_S,
    "system/Subscription.cruds",
}
SUPPORTED_SCOPES = sorted(ALL_SCOPES | V2_SCOPES | {ADMIN})
CAPABILITIES = ["client-confidential-asymmetric", "permission-v1", "permission-v2"]


class TokenResponse(BaseModel):
    access_token: str
    token_type: str
    expires_in: int
    scope: str


class OAuthErrorBody(BaseModel):
    error: str
    error_description: str


class SmartConfiguration(BaseModel):
    token_endpoint: str
    token_endpoint_auth_methods_supported: list[str]
    token_endpoint_auth_signing_alg_values_supported: list[str]
    grant_types_supported: list[str]
    scopes_supported: list[str]
    capabilities: list[str]


_TOKEN_FORM: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["grant_type", "client_assertion_type", "client_assertion", "scope"],
                    "properties": {
                        "grant_type": {"type": "string", "enum": ["client_credentials"]},
                        "scope": {"type": "string", "maxLength": 2048},
                        "client_assertion_type": {"type": "string", "enum": [ASSERTION_TYPE]},
                        "client_assertion": {"type": "string", "maxLength": 16384},
                    },
                }
            }
        },
    }
}
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _form(body: bytes) -> dict[str, str]:
    if len(body) > MAX_FORM_BYTES:
        raise OAuthError("invalid_request", "the token request is too large")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        raise OAuthError("invalid_request", "the body must be application/x-www-form-urlencoded") from None
    if any(len(values) != 1 for values in fields.values()):
        raise OAuthError("invalid_request", "each parameter may be given once")
    return {name: values[0] for name, values in fields.items()}


def _oauth_error(exc: OAuthError) -> JSONResponse:
    body = OAuthErrorBody(error=exc.error, error_description=exc.description)
    headers = dict(_NO_STORE)
    if exc.status_code == 401:  # RFC 6749 5.2: a 401 names the authentication scheme
        headers["WWW-Authenticate"] = f'Bearer realm="epa", error="{exc.error}"'
    if isinstance(exc, TokenRequestsThrottled):
        headers["Retry-After"] = str(exc.retry_after)
    return JSONResponse(body.model_dump(), status_code=exc.status_code, headers=headers)


def _throttle(limiter: RateLimiter, key: str) -> None:
    wait = limiter.acquire(key)
    if wait is not None:
        raise TokenRequestsThrottled(wait)


@router.post(
    "/auth/token",
    summary="Exchange a signed client assertion for an access token (client_credentials)",
    response_model=TokenResponse,
    responses={400: {"model": OAuthErrorBody}, 401: {"model": OAuthErrorBody}, 429: {"model": OAuthErrorBody}},
    openapi_extra=_TOKEN_FORM,
)
async def token(request: Request, runtime: RuntimeDep, security: SecurityDep) -> JSONResponse:
    audit = open_audit(request, "unknown")
    entry = audit.record("auth.token")
    address = request.client.host if request.client else "unknown"
    try:
        # In-process limits (per API process): guessing and floods cost a 429, not a database lookup each.
        _throttle(security.token_limiter_by_address, address)
        # Only a verified assertion counts against its client's limit (a forged one naming a real client
        # must not lock it out); failed client authentications count against the address they came from.
        wait = security.token_failures_by_address.wait(address)
        if wait is not None:
            raise TokenRequestsThrottled(wait)
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            raise OAuthError("invalid_request", "the body must be application/x-www-form-urlencoded")
        form = _form(await request.body())
        if form.get("grant_type") != "client_credentials":
            raise OAuthError("unsupported_grant_type", "only grant_type=client_credentials is supported")
        if form.get("client_assertion_type") != ASSERTION_TYPE or not form.get("client_assertion"):
            raise OAuthError("invalid_client", f"a client_assertion of type {ASSERTION_TYPE} is required")
        context = AssertionContext(
            engine=runtime.engine, replay=security.replay, jwks=security.jwks, token_url=security.token_url
        )
        registration = await verify_client_assertion(form["client_assertion"], context)
        entry.client_id = registration.client_id
        _throttle(security.token_limiter_by_client, registration.client_id)
        requested = set(form.get("scope", "").split())
        allowed = allowed_scopes(registration)
        granted = sorted(_granted(requested, allowed))
        if not granted:
            raise OAuthError("invalid_scope", "none of the requested scopes is allowed for this client")
        access_token, expires_in = security.tokens.issue(registration.client_id, granted)
    except OAuthError as exc:
        if exc.error == "invalid_client" and not isinstance(exc, TokenRequestsThrottled):
            security.token_failures_by_address.acquire(address)
        log.info("token refused", extra={"oauth_error": exc.error})
        return _oauth_error(exc)
    body = TokenResponse(
        access_token=access_token,
        token_type="bearer",  # noqa: S106 (the OAuth token type, not a password)
        expires_in=expires_in,
        scope=" ".join(granted),
    )
    return JSONResponse(body.model_dump(), headers=_NO_STORE)


def _granted(requested: set[str], allowed: frozenset[str]) -> set[str]:
    """Each requested scope a registered one covers, as asked; a wider wildcard (`system/*.rs`) gets the
    registered scopes it covers instead (SMART lets a server grant less than asked)."""
    granted: set[str] = set()
    for scope in requested:
        if granted_by_any(allowed, scope):
            granted.add(scope)
        else:  # the registered scopes it covers, each narrowed to what was asked (`*.rs` of `Subscription.*`)
            for registered in allowed - {ADMIN}:
                found = registered if grants(scope, registered) else narrowed(scope, registered)
                if found is not None:
                    granted.add(found)
    return granted


@router.get(
    "/.well-known/smart-configuration",
    summary="SMART configuration: how to get an access token",
    response_model=SmartConfiguration,
)
@router.get(
    "/fhir/.well-known/smart-configuration",
    summary="SMART configuration at the FHIR base",
    response_model=SmartConfiguration,
)
async def smart_configuration(security: SecurityDep) -> SmartConfiguration:
    return SmartConfiguration(
        token_endpoint=security.token_url,
        token_endpoint_auth_methods_supported=["private_key_jwt"],
        token_endpoint_auth_signing_alg_values_supported=list(SIGNING_ALGORITHMS),
        grant_types_supported=["client_credentials"],
        scopes_supported=SUPPORTED_SCOPES,
        capabilities=CAPABILITIES,
    )
