"""Fresh, migrated databases for tests: a SQLite file, or a new PostgreSQL database per use."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from sqlalchemy import delete
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from app.store.models import Base

POSTGRES_ENV = "EPA_TEST_POSTGRES_URL"
BACKENDS = ("sqlite", "postgresql")


def postgres_admin_url() -> str | None:
    """The PostgreSQL server tests may create databases on (CI always sets it)."""
    return os.environ.get(POSTGRES_ENV) or None


def _plain_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def create_database(backend: str, directory: Path) -> str:
    """Create a new, empty database and return its SQLAlchemy URL."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{directory / f'epa-{uuid.uuid4().hex[:8]}.sqlite3'}"
    admin = postgres_admin_url()
    if admin is None:
        raise RuntimeError(f"{POSTGRES_ENV} is not set")
    name = f"epa_test_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(_plain_dsn(admin))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return make_url(admin).set(database=name).render_as_string(hide_password=False)


async def drop_database(url: str) -> None:
    """Drop a database made by create_database (SQLite files go with the temporary directory)."""
    admin = postgres_admin_url()
    if url.startswith("sqlite") or admin is None:
        return
    connection = await asyncpg.connect(_plain_dsn(admin))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    finally:
        await connection.close()


@asynccontextmanager
async def fresh_database(backend: str, directory: Path) -> AsyncIterator[str]:
    """Yield the SQLAlchemy URL of a new, empty database; drop it afterwards."""
    url = await create_database(backend, directory)
    try:
        yield url
    finally:
        await drop_database(url)


async def clear_tables(engine: AsyncEngine) -> None:
    """Delete every row (children first) so each test starts from an empty, migrated schema."""
    async with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(delete(table))
