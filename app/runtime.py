"""What a running service holds: built once in the lifespan, torn down on exit, no globals."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.settings import Settings
from app.store.database import create_engine, create_session_factory


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient


@asynccontextmanager
async def build_runtime(settings: Settings) -> AsyncIterator[Runtime]:
    engine = create_engine(settings.effective_database_url)
    http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0), follow_redirects=False)
    try:
        yield Runtime(settings=settings, engine=engine, sessions=create_session_factory(engine), http=http)
    finally:
        await http.aclose()
        await engine.dispose()
