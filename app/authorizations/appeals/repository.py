"""Appeals of authorizations: their rows and documents (adds and flushes, never commits)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.store.models import Appeal


class AppealRepository:
    """Appeals scoped to one client (None: every client, for the worker and admins)."""

    def __init__(self, session: AsyncSession, client_id: str | None) -> None:
        self.session = session
        self.client_id = client_id

    def add(self, appeal: Appeal) -> Appeal:
        self.session.add(appeal)
        return appeal

    async def get(self, appeal_id: uuid.UUID, *, with_documents: bool = False) -> Appeal | None:
        statement = select(Appeal).where(Appeal.id == appeal_id)
        if self.client_id is not None:
            statement = statement.where(Appeal.client_id == self.client_id)
        if with_documents:
            statement = statement.options(selectinload(Appeal.documents))
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def by_request_identifier(self, request_identifier: str) -> Appeal | None:
        statement = select(Appeal).where(Appeal.request_identifier == request_identifier)
        if self.client_id is not None:
            statement = statement.where(Appeal.client_id == self.client_id)
        return (await self.session.execute(statement.limit(1))).scalar_one_or_none()

    async def undecided(self, authorization_id: uuid.UUID) -> Appeal | None:
        """The appeal the payer is reviewing, if any (at most one at a time)."""
        statement = (
            select(Appeal)
            .where(Appeal.authorization_id == authorization_id, Appeal.outcome.is_(None))
            .order_by(Appeal.submitted_at.desc())
            .limit(1)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()
