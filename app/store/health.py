"""Whether the database answers, takes writes, and at which schema revision: the statements of the readiness check."""

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


async def accepts_writes(engine: AsyncEngine) -> None:
    """Raise the driver's error when the database refuses writes (read-only, disk full, ...): a no-op
    UPDATE of the schema revision row, rolled back at once."""
    async with engine.connect() as connection, connection.begin() as transaction:
        await connection.execute(text("UPDATE alembic_version SET version_num = version_num"))
        await transaction.rollback()
