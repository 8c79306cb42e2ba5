"""The application factory. Nothing is built at import time except `app` for uvicorn."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app import __version__
from app.api import health
from app.api.errors import install_error_handlers
from app.api.middleware import RequestContextMiddleware
from app.runtime import build_runtime
from app.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with build_runtime(settings or Settings()) as runtime:
            app.state.runtime = runtime
            yield

    app = FastAPI(
        title="ePA hub",
        version=__version__,
        summary="Electronic prior authorization: Da Vinci PAS $submit / $inquire, CRD, payer adapters.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware)
    app.include_router(health.router)
    return app


app = create_app()
