"""Wire the console into an app: its routers, static files, templates and the login redirect."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from app.console import actions, login, pages
from app.console.access import LoginRequired
from app.console.rendering import masked, when

HERE = Path(__file__).resolve().parent


async def _to_login(_request: Request, _exc: Exception) -> Response:
    return RedirectResponse("/console/login", status_code=303)


def install_console(app: FastAPI) -> None:
    """The session key is set in the lifespan (`console_key`), once the settings are known."""
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.filters["when"] = when
    templates.env.filters["masked"] = masked
    app.state.console_templates = templates
    app.add_exception_handler(LoginRequired, _to_login)
    app.include_router(login.router)
    app.include_router(pages.router)
    app.include_router(actions.router)
    app.mount("/console/static", StaticFiles(directory=HERE / "static"), name="console-static")
