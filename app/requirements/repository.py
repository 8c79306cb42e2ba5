"""The coverage assertions CRD answers leave behind (a later `$submit` links the ones it names).

A hook call's only write: one INSERT of values (one row per order, no RETURNING), built once, on a
connection of its own rather than a unit of work. On PostgreSQL the connection runs in autocommit, so
the statement is its own transaction: one round trip instead of BEGIN, INSERT, COMMIT (asyncpg sends
each as a message of its own). SQLite's driver already folds BEGIN into the statement; there the
connection commits as usual.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from app.store.models import CoverageAssertion

_INSERT = insert(cast(Table, CoverageAssertion.__table__))


async def add_assertions(engine: AsyncEngine, rows: Sequence[dict[str, Any]]) -> None:
    """Store the assertions (column name -> value, every column given) and commit them."""
    if not rows:
        return
    async with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(_INSERT, list(rows))
        await connection.commit()
