"""Database, settings and client fixtures. Database tests run once on SQLite and once on PostgreSQL.

PostgreSQL tests need EPA_TEST_POSTGRES_URL (an admin URL such as
postgresql+asyncpg://postgres@127.0.0.1:5432/postgres). Without it they are skipped locally;
CI always sets it, so there a missing server fails the run.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.main import create_app
from app.settings import Settings
from app.store import migrate
from app.store.database import create_engine, create_session_factory
from tests.support.databases import (
    BACKENDS,
    POSTGRES_ENV,
    clear_tables,
    create_database,
    drop_database,
    postgres_admin_url,
)
from tests.support.runtime import development_settings

SHARED_EXAMPLES = Path(__file__).resolve().parents[2] / "shared" / "pas-examples"


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database for the whole session, one per backend."""
    backend: str = request.param
    if backend == "postgresql" and postgres_admin_url() is None:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV}")
    url = asyncio.run(create_database(backend, tmp_path_factory.mktemp("db")))
    try:
        asyncio.run(_migrate(url))
        yield url
    finally:
        asyncio.run(drop_database(url))


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=2)
    try:
        yield engine
    finally:
        await clear_tables(engine)
        await engine.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with create_session_factory(engine)() as session:
        yield session


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return development_settings(database_url, tmp_path)


@pytest.fixture
async def app(settings: Settings, engine: AsyncEngine) -> AsyncIterator[FastAPI]:
    """The application with its lifespan running; tables are cleared after the test (via `engine`)."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def shared_examples() -> Path:
    if not SHARED_EXAMPLES.is_dir():
        pytest.skip("../shared/pas-examples is not present")
    return SHARED_EXAMPLES


def json_body(response: httpx.Response) -> Any:
    return response.json()
