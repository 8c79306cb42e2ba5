"""Who is at the console. Outside development mode: an admin client that logged in with its token.

`operator` is the dependency of every console page. Without a valid session cookie it raises
`LoginRequired` (a redirect to the login page); in development mode it opens a session for the
development principal instead. Each request checks again that the client is still an enabled
admin, so disabling a client ends its console sessions at once, and that the session was not
logged out (`app.security.console_sessions`: a logout ends it on every process).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Form, Request

from app.api.deps import RuntimeDep
from app.api.middleware import CLIENT_ID_STATE
from app.console import sessions
from app.errors import Forbidden
from app.runtime import Runtime
from app.security import console_sessions
from app.security.principal import DEVELOPMENT_PRINCIPAL, Principal
from app.security.registry import get_client


class LoginRequired(Exception):
    """No valid console session: the handler redirects to the login page."""


@dataclass(frozen=True, slots=True)
class Operator:
    principal: Principal
    csrf: str
    new_cookie: str | None = None  # set on the response when a session was opened just now


def console_key(request: Request) -> bytes:
    key: bytes = request.app.state.console_key
    return key


async def is_admin(runtime: Runtime, client_id: str, *, csrf: str | None = None) -> bool:
    """Whether `client_id` is an enabled admin (and, given a session's `csrf`, that session was not logged out)."""
    async with runtime.sessions() as session:
        if csrf is not None and await console_sessions.is_revoked(session, csrf):
            return False
        registration = await get_client(session, client_id)
    return registration is not None and registration.enabled and registration.admin


async def operator(request: Request, runtime: RuntimeDep) -> Operator:
    found_operator = await _operator(request, runtime)
    setattr(request.state, CLIENT_ID_STATE, found_operator.principal.client_id)  # for the access log
    return found_operator


async def _operator(request: Request, runtime: Runtime) -> Operator:
    key = console_key(request)
    found = sessions.read(key, request.cookies.get(sessions.COOKIE))
    if runtime.settings.development:
        if found is not None and found.client_id == DEVELOPMENT_PRINCIPAL.client_id:
            return Operator(DEVELOPMENT_PRINCIPAL, found.csrf)
        cookie, opened = sessions.issue(key, DEVELOPMENT_PRINCIPAL.client_id)
        return Operator(DEVELOPMENT_PRINCIPAL, opened.csrf, new_cookie=cookie)
    if found is None or not await is_admin(runtime, found.client_id, csrf=found.csrf):
        raise LoginRequired
    return Operator(Principal(client_id=found.client_id, scopes=frozenset(), admin=True), found.csrf)


OperatorDep = Annotated[Operator, Depends(operator)]


async def checked_operator(current: OperatorDep, csrf: Annotated[str | None, Form(max_length=128)] = None) -> Operator:
    """The operator of a POST form whose CSRF field matches the session's token (403 otherwise)."""
    if current.new_cookie is not None or not sessions.csrf_matches(current.csrf, csrf):
        raise Forbidden("the form's CSRF token does not match this console session; reload the page")
    return current


CheckedOperatorDep = Annotated[Operator, Depends(checked_operator)]
