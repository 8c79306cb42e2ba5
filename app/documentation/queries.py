"""What the package operation reads of CRD's coverage assertions (a `context` names one)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.store.models import CoverageAssertion


async def assertion_rule(
    session: AsyncSession, client_id: str | None, assertion_id: str
) -> tuple[str, str | None] | None:
    """(payer id, rule id) of a coverage assertion the client was given (any client's for None), or None."""
    query = select(CoverageAssertion.payer_id, CoverageAssertion.rule_id).where(CoverageAssertion.id == assertion_id)
    if client_id is not None:
        query = query.where(CoverageAssertion.client_id == client_id)
    row = (await session.execute(query)).first()
    return None if row is None else (row[0], row[1])
