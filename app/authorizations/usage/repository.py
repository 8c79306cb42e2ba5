"""Usage reports: one row of `authorization_usage` per report (adds and flushes, never commits).

Scoped through the authorization they count against: the use cases load that authorization for
the calling client first, so these statements take its id.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.store.models import AuthorizationUsage


class UsageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_reference(self, authorization_id: uuid.UUID, reference: str) -> AuthorizationUsage | None:
        """The report sent earlier with this client reference (a replay), if any."""
        return await self.session.scalar(
            select(AuthorizationUsage).where(
                AuthorizationUsage.authorization_id == authorization_id, AuthorizationUsage.reference == reference
            )
        )

    async def of_authorization(self, authorization_id: uuid.UUID) -> list[AuthorizationUsage]:
        """The authorization's reports in the order they came."""
        statement = (
            select(AuthorizationUsage)
            .where(AuthorizationUsage.authorization_id == authorization_id)
            .order_by(AuthorizationUsage.id)
        )
        return list((await self.session.scalars(statement)).all())

    async def add(self, usage: AuthorizationUsage) -> AuthorizationUsage:
        self.session.add(usage)
        await self.session.flush()
        return usage
