"""Console login: an admin client's access token (from POST /auth/token) becomes a 15-minute session.

The login form carries a double-submit CSRF token (a random cookie repeated in a hidden field);
the token itself is checked like on any API call, and only an enabled admin client may log in.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.api.deps import RuntimeDep
from app.api.security import SecurityDep
from app.console import sessions
from app.console.access import CheckedOperatorDep, console_key, is_admin
from app.console.rendering import render, secure_cookies, set_session_cookie
from app.errors import EpaError
from app.security import console_sessions
from app.security.principal import ADMIN

router = APIRouter(prefix="/console", include_in_schema=False)


def _login_page(request: Request, message: str | None, status_code: int) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(request, None, "login.html", {"login_csrf": token, "message": message}, status_code)
    response.set_cookie(
        sessions.LOGIN_COOKIE,
        token,
        max_age=600,
        path=sessions.PATH,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
    )
    return response


@router.get("/login")
async def login_form(request: Request, runtime: RuntimeDep) -> Response:
    if runtime.settings.development:
        return RedirectResponse("/console/authorizations", status_code=303)
    return _login_page(request, None, 200)


@router.post("/login")
async def login(
    request: Request,
    runtime: RuntimeDep,
    security: SecurityDep,
    token: Annotated[str, Form(max_length=8192)],
    csrf: Annotated[str, Form(max_length=128)],
) -> Response:
    if not sessions.csrf_matches(request.cookies.get(sessions.LOGIN_COOKIE, ""), csrf):
        return _login_page(request, "The form expired; please try again.", 403)
    try:
        claims = security.tokens.verify(token.strip())
    except EpaError:
        return _login_page(request, "That token is not valid (expired, or not issued by this service).", 401)
    if ADMIN not in claims.scopes or not await is_admin(runtime, claims.client_id):
        return _login_page(request, "Only an enabled admin client holding the ops/admin scope may log in.", 403)
    cookie, _session = sessions.issue(console_key(request), claims.client_id)
    response = RedirectResponse("/console/authorizations", status_code=303)
    set_session_cookie(request, response, cookie)
    response.delete_cookie(sessions.LOGIN_COOKIE, path=sessions.PATH)
    return response


@router.post("/logout")
async def logout(request: Request, runtime: RuntimeDep, operator: CheckedOperatorDep) -> Response:
    """End the session on every process (recorded server-side), then drop the cookie."""
    async with runtime.sessions() as session:
        await console_sessions.revoke(session, operator.csrf, lifetime_seconds=sessions.LIFETIME_SECONDS)
        await session.commit()
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(sessions.COOKIE, path=sessions.PATH)
    return response
