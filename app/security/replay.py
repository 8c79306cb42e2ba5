"""Client-assertion ids (`jti`) seen before: each is accepted once, and remembered until it expires."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.security import repository


async def use_assertion_once(
    sessions: async_sessionmaker[AsyncSession], client_id: str, jti: str, expires_at: datetime
) -> bool:
    """Record `jti` for `client_id` in its own transaction; False when it was used before.

    Expired entries are pruned on the way (the assertion they guard can no longer be accepted).
    The unique constraint decides races between processes.
    """
    async with sessions() as session:
        await repository.forget_expired_assertions(session, datetime.now(UTC))
        repository.add_used_assertion(session, client_id, jti, expires_at)
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            return False
    return True
