"""Alembic environment. Runs on a connection handed over by app.store.migrate, or on EPA_ settings."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection

from app.store.models import Base
from app.store.types import UTCDateTime

target_metadata = Base.metadata


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Render project column types as plain SQLAlchemy ones so migrations never import app code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_from_settings() -> None:
    from app.settings import Settings
    from app.store.database import create_engine

    engine = create_engine(Settings().effective_database_url)
    async with engine.begin() as connection:
        await connection.run_sync(_run_on)
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run_on(connection)
elif context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run `epa db upgrade`")
else:
    asyncio.run(_run_from_settings())
