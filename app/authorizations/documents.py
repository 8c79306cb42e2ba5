"""Documents sent for a request, as the core of the lifecycle sees them.

A PASClaimUpdate may carry the documents a payer asked for, and every later follow-up hands the
payer what was sent so far. The documents are the attachments sub-room's (its table, its
`$submit-attachment`); the core never imports a sub-room, so the room's face hands it this
Protocol, implemented there.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.model import Attachment
from app.payers import PayerReference
from app.store.models import Authorization


class SentDocuments(Protocol):
    async def keep(
        self, session: AsyncSession, authorization: Authorization, documents: Sequence[Attachment], *, now: datetime
    ) -> int:
        """Store the documents not stored before for this authorization (in the caller's unit of work)."""
        ...

    async def with_documents(self, session: AsyncSession, reference: PayerReference) -> PayerReference:
        """`reference` with every document sent for its request so far (for `inquire`)."""
        ...
