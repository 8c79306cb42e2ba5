"""An application with authentication on (not development mode), and probe routes that need scopes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app
from app.settings import Settings
from tests.support.secure import add_probe_routes, secure_settings_for


@pytest.fixture
def secure_settings(database_url: str, tmp_path: Path) -> Settings:
    return secure_settings_for(database_url, tmp_path)


@pytest.fixture
async def secure_app(secure_settings: Settings, engine: AsyncEngine) -> AsyncIterator[FastAPI]:
    application = create_app(secure_settings)
    add_probe_routes(application)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def secure_client(secure_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=secure_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
