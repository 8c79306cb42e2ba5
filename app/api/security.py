"""Route dependencies that say who the caller is and check its scopes.

Outside development mode every caller presents a bearer token from `POST /auth/token`; in
development mode a request without one acts as the development principal, and a request with
one is verified like anywhere else (so isolation can be tried locally).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.api.deps import RuntimeDep
from app.api.middleware import CLIENT_ID_STATE
from app.errors import Forbidden, RateLimited
from app.runtime import Runtime
from app.security.principal import DEVELOPMENT_PRINCIPAL, Principal
from app.security.registry import get_client, principal_for
from app.security.state import SecurityState
from app.security.tokens import missing_token, rejected_token

bearer = HTTPBearer(auto_error=False, description="An access token from POST /auth/token (SMART Backend Services).")


async def get_security(request: Request) -> SecurityState:
    security: SecurityState = request.app.state.security
    return security


SecurityDep = Annotated[SecurityState, Depends(get_security)]


async def current_principal(
    request: Request,
    runtime: RuntimeDep,
    security: SecurityDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    principal = await _principal(runtime, security, credentials)
    setattr(request.state, CLIENT_ID_STATE, principal.client_id)
    return principal


async def _principal(
    runtime: Runtime, security: SecurityState, credentials: HTTPAuthorizationCredentials | None
) -> Principal:
    if credentials is None:
        if runtime.settings.development:
            return DEVELOPMENT_PRINCIPAL
        raise missing_token()
    token = security.tokens.verify(credentials.credentials)
    # A short session of its own: the request's unit of work must not hold a pooled connection
    # from here on (a $submit waits seconds for its payer without any connection checked out).
    async with runtime.sessions() as session:
        registration = await get_client(session, token.client_id)
    if registration is None or not registration.enabled:
        raise rejected_token("the token's client is unknown or disabled")
    return rate_limited(security, principal_for(registration, token.scopes))


def rate_limited(security: SecurityState, principal: Principal) -> Principal:
    """`principal`, unless its client has made too many requests (429)."""
    retry_after = security.limiter.acquire(principal.client_id)
    if retry_after is not None:
        raise RateLimited("too many requests for this client", headers={"Retry-After": str(retry_after)})
    return principal


def require(scope: str) -> Any:
    """`Depends(...)` that yields the caller when it holds `scope` (403 otherwise)."""

    async def dependency(principal: Principal = Depends(current_principal)) -> Principal:
        if not principal.has(scope):
            raise Forbidden(f"the token lacks the scope {scope}")
        return principal

    checker: Callable[..., Coroutine[Any, Any, Principal]] = dependency
    return Depends(checker)
