"""Engine and session factory; the request-scoped session is the unit of work."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    """An AsyncEngine for SQLite (aiosqlite) or PostgreSQL (asyncpg).

    `hide_parameters`: a database error's text (which ends up in tracebacks and logs) never carries
    the statement's bound parameters, which hold member ids and request documents.
    """
    if url.startswith("sqlite"):
        engine = create_async_engine(url, echo=echo, pool_size=pool_size, max_overflow=pool_size, hide_parameters=True)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_async_engine(url, echo=echo, pool_size=pool_size, max_overflow=pool_size, hide_parameters=True)
    event.listen(engine.sync_engine, "checkout", _drop_closed_connection)
    return engine


def _drop_closed_connection(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Instead of a pre-ping (one round trip on every checkout): a pooled connection whose server end
    went away (a restart, `pg_terminate_backend`, an idle timeout) is known to asyncpg already, since
    its socket saw the server's goodbye; the pool drops it and hands out another, at no round trip.

    A connection lost without a word (a network partition) fails its first statement instead: the
    pool then discards every connection of that age, the transaction rolls back, and the request
    gets a 503 to retry (`app.api.unhandled`)."""
    driver = getattr(dbapi_connection, "_connection", None)  # asyncpg's Connection under the adapter
    if driver is not None and driver.is_closed():
        raise exc.DisconnectionError("the server closed this pooled connection")


_SQLITE_WRITERS: weakref.WeakKeyDictionary[Any, asyncio.Lock] = weakref.WeakKeyDictionary()


@contextlib.asynccontextmanager
async def writer_turn(engine: AsyncEngine) -> AsyncIterator[None]:
    """On SQLite, one write transaction of the hot path at a time in this process, in arrival order.

    SQLite has a single writer: concurrent writers otherwise meet in its busy handler (sleeping and
    polling, a long latency tail) or fail outright when a deferred transaction cannot upgrade to
    write. An asyncio lock makes them queue instead. PostgreSQL needs no turn (row locks do it).
    Wrap the whole transaction, and open no other write transaction inside it.
    """
    if engine.dialect.name != "sqlite":
        yield
        return
    lock = _SQLITE_WRITERS.setdefault(engine.sync_engine, asyncio.Lock())
    async with lock:
        yield


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def commit_before_outbound_call(session: AsyncSession) -> None:
    """The one commit besides the unit of work's: end the transaction before a call to the outside (a payer,
    a webhook receiver), so no lock or pooled connection is held while it answers. What the session wrote
    so far is committed; the caller goes on in a new transaction, which its unit of work commits."""
    await session.commit()
