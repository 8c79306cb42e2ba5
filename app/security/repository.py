"""Every SQL statement on the security room's tables: client registrations, used assertion ids, audit rows.

Functions here add, flush and execute; none commits. The caller's unit of work commits, or one of the
two short transactions the room owns on purpose: `replay.use_assertion_once` (an assertion id is
spent even when the token request then fails) and `audit.write_audit` (a failed request, whose unit
of work rolls back, is audited too).

A registration is keyed by its client id. Used assertions and audit rows carry the client id; an
audit search filters on it when one is given (None: an admin's search over every client).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.store.models import AuditRecord, ClientRegistration, RevokedConsoleSession, UsedAssertion


async def get_registration(session: AsyncSession, client_id: str) -> ClientRegistration | None:
    return await session.get(ClientRegistration, client_id)


async def list_registrations(session: AsyncSession) -> list[ClientRegistration]:
    """Every registration, by client id."""
    return list((await session.scalars(select(ClientRegistration).order_by(ClientRegistration.client_id))).all())


async def add_registration(session: AsyncSession, registration: ClientRegistration) -> None:
    session.add(registration)
    await session.flush()


async def save_registration(session: AsyncSession, registration: ClientRegistration) -> None:
    """Write the fields changed on a registration read from `session`."""
    await session.flush()


async def delete_registration(session: AsyncSession, registration: ClientRegistration) -> None:
    await session.delete(registration)
    await session.flush()


async def forget_expired_assertions(session: AsyncSession, now: datetime) -> None:
    """Drop the ids of assertions expired before `now`: they can no longer be accepted anyway."""
    await session.execute(delete(UsedAssertion).where(UsedAssertion.expires_at < now))


def add_used_assertion(session: AsyncSession, client_id: str, jti: str, expires_at: datetime) -> None:
    """Stage the assertion id; the unique (client_id, jti) constraint refuses a second use at commit."""
    session.add(UsedAssertion(client_id=client_id, jti=jti, expires_at=expires_at))


def add_audit_records(session: AsyncSession, records: Iterable[AuditRecord]) -> None:
    session.add_all(records)


async def find_audit_records(
    session: AsyncSession,
    *,
    client_id: str | None,
    operation: str | None,
    since: datetime | None,
    before_id: int | None,
    limit: int,
) -> list[AuditRecord]:
    """Newest first; `before_id` is the cursor (records older than that one)."""
    statement = select(AuditRecord).order_by(AuditRecord.id.desc()).limit(limit)
    if client_id is not None:
        statement = statement.where(AuditRecord.client_id == client_id)
    if operation is not None:
        statement = statement.where(AuditRecord.operation == operation)
    if since is not None:
        statement = statement.where(AuditRecord.at >= since)
    if before_id is not None:
        statement = statement.where(AuditRecord.id < before_id)
    return list((await session.scalars(statement)).all())


async def add_revoked_console_session(session: AsyncSession, session_id: str, expires_at: datetime) -> None:
    """Record a console session as ended (once; revoking it again changes nothing); forget expired ones."""
    await session.execute(delete(RevokedConsoleSession).where(RevokedConsoleSession.expires_at < datetime.now(UTC)))
    if await session.get(RevokedConsoleSession, session_id) is None:
        session.add(RevokedConsoleSession(session_id=session_id, expires_at=expires_at))


async def is_console_session_revoked(session: AsyncSession, session_id: str) -> bool:
    return await session.get(RevokedConsoleSession, session_id) is not None
