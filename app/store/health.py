"""Whether the database answers, and at which schema revision: the statements of the readiness check."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.store import migrate


async def schema_revision(engine: AsyncEngine) -> str | None:
    """The database's schema revision, once a trivial statement shows it answers (the driver's error,
    a SQLAlchemyError or an OSError, when it does not)."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    return await migrate.current_revision(engine)
