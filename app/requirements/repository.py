"""The coverage assertions CRD answers leave behind (a later `$submit` links the ones it names).

One multi-row Core INSERT per hook call, no unit of work: it is the hook's only write.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.store.models import CoverageAssertion


async def add_assertions(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Store the assertions (column name -> value) in the caller's transaction."""
    if rows:
        await session.execute(insert(cast(Table, CoverageAssertion.__table__)), list(rows))
