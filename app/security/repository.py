"""Every SQL statement on the security room's tables: client registrations, used assertion ids, audit rows.

Functions here add, flush and execute; none commits. The caller's unit of work commits, or one of the
two short transactions the room owns on purpose: `use_assertion_id` (an assertion id is spent even
when the request then fails) and `audit.write_audit` (a failed request, whose unit of work rolls
back, is audited too).

The two statements of every signed request (`read_registration`, `use_assertion_id`) take the engine,
not a session: each is one statement on a connection of its own, in autocommit on PostgreSQL (no
BEGIN, COMMIT or ROLLBACK round trips), run in one greenlet (check-out, statement, check-in), with no
unit of work around it.

A registration is keyed by its client id. Used assertions and audit rows carry the client id; an
audit search filters on it when one is given (None: an admin's search over every client).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Insert, Table, bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.util import greenlet_spawn

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


_REGISTRATIONS: Table = ClientRegistration.__table__  # type: ignore[assignment]
_USED: Table = UsedAssertion.__table__  # type: ignore[assignment]
_READ_REGISTRATION = select(_REGISTRATIONS).where(_REGISTRATIONS.c.client_id == bindparam("client_id"))
_FORGET_EXPIRED = delete(_USED).where(_USED.c.expires_at < bindparam("now"))


async def read_registration(engine: AsyncEngine, client_id: str) -> ClientRegistration | None:
    """The registration as stored now, read on its own connection: a copy outside any session (reading
    its attributes is all a caller may do with it)."""
    values = await greenlet_spawn(_read_registration, engine.sync_engine, client_id)
    return None if values is None else ClientRegistration(**values)


def _read_registration(engine: Engine, client_id: str) -> dict[str, Any] | None:
    with engine.connect() as connection:
        _autocommit(engine, connection)
        row = connection.execute(_READ_REGISTRATION, {"client_id": client_id}).first()
    return None if row is None else dict(row._mapping)


async def use_assertion_id(
    engine: AsyncEngine, client_id: str, jti: str, expires_at: datetime, *, now: datetime, prune: bool
) -> bool:
    """Take the id for the client in one statement, committed at once; False when a copy that has not
    expired by `now` is held (a replay). An expired copy is taken over (its assertion can no longer be
    accepted). With `prune`, the ids expired by `now` are deleted first, on the same connection."""
    values = {"client_id": client_id, "jti": jti, "expires_at": expires_at, "now": now}
    return bool(await greenlet_spawn(_use_assertion_id, engine.sync_engine, values, prune))


def _use_assertion_id(engine: Engine, values: dict[str, Any], prune: bool) -> bool:
    with engine.connect() as connection:
        _autocommit(engine, connection)
        if prune:
            connection.execute(_FORGET_EXPIRED, {"now": values["now"]})
        taken = connection.execute(_take_assertion_id(engine.dialect.name), values).first() is not None
        connection.commit()
    return taken


@functools.cache
def _take_assertion_id(dialect: str) -> Insert:
    """INSERT .. ON CONFLICT (client_id, jti) DO UPDATE .. WHERE the held copy expired, RETURNING the id:
    a row back means taken; none means a live copy is held. The unique constraint decides races: a
    second insert of the same id waits for the first and then finds it."""
    columns: dict[str, Any] = {
        "client_id": bindparam("client_id"),
        "jti": bindparam("jti"),
        "expires_at": bindparam("expires_at"),
    }
    statement: postgresql.Insert | sqlite.Insert = (
        postgresql.insert(_USED) if dialect == "postgresql" else sqlite.insert(_USED)
    ).values(columns)  # the two dialects' upserts are spelled alike
    return statement.on_conflict_do_update(
        index_elements=[_USED.c.client_id, _USED.c.jti],
        set_={"expires_at": statement.excluded.expires_at},
        where=_USED.c.expires_at < bindparam("now"),
    ).returning(_USED.c.id)


def _autocommit(engine: Engine, connection: Connection) -> None:
    # On SQLite a read starts no transaction and a write commits its own, so the driver's default mode
    # costs nothing there; switching it would cost a hop to aiosqlite's thread each way.
    if engine.dialect.name == "postgresql":
        connection.execution_options(isolation_level="AUTOCOMMIT")


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
