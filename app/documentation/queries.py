"""What the package operation reads of CRD's coverage assertions and of the requests a payer asked more
for (a `context` names one)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.store.models import Authorization, CoverageAssertion


async def assertion_rule(
    session: AsyncSession, client_id: str | None, assertion_id: str
) -> tuple[str, str | None] | None:
    """(payer id, rule id) of a coverage assertion the client was given (any client's for None), or None."""
    query = select(CoverageAssertion.payer_id, CoverageAssertion.rule_id).where(CoverageAssertion.id == assertion_id)
    if client_id is not None:
        query = query.where(CoverageAssertion.client_id == client_id)
    row = (await session.execute(query)).first()
    return None if row is None else (row[0], row[1])


async def information_request(
    session: AsyncSession, client_id: str | None, authorization_id: uuid.UUID
) -> tuple[str | None, dict[str, Any]] | None:
    """(payer id, what the payer asks for) of the client's authorization while it is info-requested, or None."""
    query = select(Authorization.payer_id, Authorization.info_request).where(
        Authorization.id == authorization_id, Authorization.status == "info-requested"
    )
    if client_id is not None:
        query = query.where(Authorization.client_id == client_id)
    row = (await session.execute(query)).first()
    return None if row is None else (row[0], dict(row[1] or {}))
