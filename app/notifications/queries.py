"""What notifications read of an authorization (a narrow read model of the lifecycle's tables).

An event's fan-out needs the item decisions (when the event did not carry them; who may hear of it is
read with the Subscriptions, `SubscriptionRepository.live_for`); a full-resource Subscription
notification needs the stored PAS response Bundle. Identifiers and codes only; nothing here writes.
"""

from __future__ import annotations

import uuid

from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.store.models import Authorization, AuthorizationItem


def loaded_items(authorization: Authorization) -> list[AuthorizationItem] | None:
    """The authorization's items if they are loaded already, else None (never a lazy load)."""
    if "items" in inspect(authorization).unloaded:
        return None
    return list(authorization.items)


async def items_of(session: AsyncSession, authorization_id: uuid.UUID) -> list[AuthorizationItem]:
    """The authorization's items in sequence order."""
    statement = (
        select(AuthorizationItem)
        .where(AuthorizationItem.authorization_id == authorization_id)
        .order_by(AuthorizationItem.sequence)
    )
    return list((await session.scalars(statement)).all())


async def response_document(session: AsyncSession, authorization_id: uuid.UUID) -> bytes | None:
    """The stored PAS response Bundle (JSON bytes), None when there is none (or no such authorization)."""
    document: bytes | None = await session.scalar(
        select(Authorization.response_document).where(Authorization.id == authorization_id)
    )
    return document
