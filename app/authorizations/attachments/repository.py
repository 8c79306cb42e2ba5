"""AttachmentRepository: documents sent for an authorization, and finding it by its tracking number.

Every read is scoped to the calling client (None = the worker, all clients). Adds and flushes, never
commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.model import Attachment as AttachmentDocument
from app.domain.model import Identifier
from app.store.models import Attachment, Authorization


class AttachmentRepository:
    def __init__(self, session: AsyncSession, client_id: str | None) -> None:
        self.session = session
        self.client_id = client_id

    async def authorization_id_for(self, tracking: Identifier) -> uuid.UUID | None:
        """The current authorization a tracking number names: its preAuthRef, or its Claim identifier
        (system|value; any system when the tracking id gives none). The newest match wins."""
        claim = (
            Authorization.claim_identifier == tracking.key()
            if tracking.system
            else Authorization.claim_identifier.endswith(f"|{tracking.value}", autoescape=True)
        )
        statement = (
            select(Authorization.id)
            .where(or_(Authorization.preauth_ref == tracking.value, claim), Authorization.replaced_by_id.is_(None))
            .order_by(Authorization.created_at.desc())
            .limit(1)
        )
        if self.client_id is not None:
            statement = statement.where(Authorization.client_id == self.client_id)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def add_new(
        self, authorization: Authorization, documents: Iterable[AttachmentDocument], *, now: datetime
    ) -> int:
        """Store the documents not stored for this authorization yet (by sha256); returns how many were new."""
        documents = list(documents)
        known = set(
            (
                await self.session.execute(
                    select(Attachment.sha256).where(
                        Attachment.authorization_id == authorization.id,
                        Attachment.sha256.in_([d.sha256 for d in documents]),
                    )
                )
            ).scalars()
        )
        added = 0
        for document in documents:
            if document.sha256 in known:
                continue
            known.add(document.sha256)
            self.session.add(
                Attachment(
                    authorization_id=authorization.id,
                    client_id=authorization.client_id,
                    resource_type=document.resource_type,
                    content_type=document.content_type,
                    sha256=document.sha256,
                    size=len(document.content),
                    content=document.content,
                    received_at=now,
                )
            )
            added += 1
        await self.session.flush()
        return added

    async def for_authorization(self, authorization_id: uuid.UUID) -> list[Attachment]:
        statement = select(Attachment).where(Attachment.authorization_id == authorization_id).order_by(Attachment.id)
        if self.client_id is not None:
            statement = statement.where(Attachment.client_id == self.client_id)
        return list((await self.session.execute(statement)).scalars())

    async def mark_forwarded(self, authorization_id: uuid.UUID, *, now: datetime) -> None:
        await self.session.execute(
            update(Attachment)
            .where(Attachment.authorization_id == authorization_id, Attachment.forwarded_at.is_(None))
            .values(forwarded_at=now)
        )


def documents_of(rows: Iterable[Attachment]) -> tuple[AttachmentDocument, ...]:
    return tuple(AttachmentDocument(r.resource_type, r.content, r.sha256, r.content_type) for r in rows)
