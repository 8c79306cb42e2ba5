"""Rendering a console page: the template, the operator's CSRF token, and a freshly opened session's cookie."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from app.console import sessions
from app.console.access import Operator

MASK = "•"
SHOWN_DIGITS = 4  # the console's policy: a member id shows its last 4 characters, at most


def when(value: datetime | date | None) -> str:
    """Every time on every console page: one format, labelled with its zone (UTC)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return value.isoformat()


def masked(member_id: str | None) -> str:
    """A member id as the console shows it: its last 4 characters, and none of an id of 8 or fewer
    (so at least half of any id shown is hidden); the full id only serves as a filter."""
    if not member_id:
        return ""
    shown = SHOWN_DIGITS if len(member_id) > 2 * SHOWN_DIGITS else 0
    return MASK * 4 + member_id[len(member_id) - shown :] if shown else MASK * 4


def templates_of(request: Request) -> Jinja2Templates:
    templates: Jinja2Templates = request.app.state.console_templates
    return templates


def secure_cookies(request: Request) -> bool:
    return bool(request.app.state.runtime.settings.base_url.startswith("https://"))


def set_session_cookie(request: Request, response: Response, cookie: str) -> None:
    response.set_cookie(
        sessions.COOKIE,
        cookie,
        max_age=sessions.LIFETIME_SECONDS,
        path=sessions.PATH,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
    )


def render(
    request: Request, operator: Operator | None, template: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    values = {
        "csrf": operator.csrf if operator else None,
        "operator": operator.principal.client_id if operator else None,
        "development": request.app.state.runtime.settings.development,
        "notice": request.query_params.get("notice"),
        "error": request.query_params.get("error"),
        **context,
    }
    response = templates_of(request).TemplateResponse(request, template, values, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    if operator is not None and operator.new_cookie is not None:
        set_session_cookie(request, response, operator.new_cookie)
    return response


def back_to(path: str, **query: str) -> RedirectResponse:
    """303 after a POST, with a notice or error the next page shows."""
    from urllib.parse import urlencode

    return RedirectResponse(f"{path}?{urlencode(query)}" if query else path, status_code=303)
