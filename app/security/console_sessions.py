"""Server-side end of console sessions: a logout is recorded in the database, so every API process
refuses the old cookie at once (the cookie itself is signed and would stay valid until it expires).

A session is named by a hash of its random CSRF token (`session_id`), never by the cookie itself.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.security import repository


def session_id(csrf: str) -> str:
    return hashlib.sha256(csrf.encode()).hexdigest()


async def revoke(session: AsyncSession, csrf: str, *, lifetime_seconds: int) -> None:
    """End the session whose token is `csrf` on every process (the caller commits)."""
    expires_at = datetime.now(UTC) + timedelta(seconds=lifetime_seconds)
    await repository.add_revoked_console_session(session, session_id(csrf), expires_at)


async def is_revoked(session: AsyncSession, csrf: str) -> bool:
    return await repository.is_console_session_revoked(session, session_id(csrf))
