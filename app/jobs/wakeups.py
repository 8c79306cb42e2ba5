"""Wake-ups for workers: a job that is due now starts at once instead of at the next poll.

- In this process: a transaction that queued a due job (`jobs.enqueue`, or a job woken to run
  now) rings this engine's `Doorbell` when it commits; every worker of this process waiting on
  it claims at once. This covers `epa serve` with its embedded worker (SQLite's only setup).
- Across processes (PostgreSQL): migrations 0013 and 0020 have the `jobs` table `NOTIFY epa_jobs`
  for each queued job inserted (not for jobs written already claimed by the worker that runs them;
  PostgreSQL folds repeats within a transaction and sends at commit, so it costs the writer no
  round trip); `listening(engine, doorbell)` holds one
  connection with `LISTEN epa_jobs` and rings the doorbell on each notification.

Polling stays as the fallback (a lost notification, a job that becomes due later): wake-ups only
shorten the wait, they are never needed for correctness.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

CHANNEL = "epa_jobs"
_RING_KEY = "epa.ring_on_commit"


class Doorbell:
    """Wakes every waiter at once; a ring with nobody waiting is remembered by each waiter's next wait."""

    def __init__(self) -> None:
        self._rung = 0
        self._waiters: set[asyncio.Future[None]] = set()

    @property
    def rings(self) -> int:
        return self._rung

    def ring(self) -> None:
        self._rung += 1
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)

    def ring_threadsafe(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.call_soon_threadsafe(self.ring)

    async def wait(self, seen: int) -> int:
        """Until a ring after `seen` (a value of `rings`); returns `rings` now. Bound it with `asyncio.timeout`."""
        if self._rung != seen:
            return self._rung
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await waiter
        finally:
            self._waiters.discard(waiter)
        return self._rung


_DOORBELLS: weakref.WeakKeyDictionary[Any, Doorbell] = weakref.WeakKeyDictionary()


def doorbell_of(engine: AsyncEngine) -> Doorbell:
    """This process's doorbell for `engine` (one per engine)."""
    return _DOORBELLS.setdefault(engine.sync_engine, Doorbell())


def ring_on_commit(session: AsyncSession | Session) -> None:
    """Ring the engine's doorbell when `session`'s transaction commits (nothing if it rolls back)."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    sync.info[_RING_KEY] = True


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if not session.info.pop(_RING_KEY, False):
        return
    bind = session.get_bind()
    engine = getattr(bind, "engine", bind)
    doorbell = _DOORBELLS.get(engine)
    if doorbell is not None:
        doorbell.ring()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_RING_KEY, None)


@contextlib.asynccontextmanager
async def listening(engine: AsyncEngine, doorbell: Doorbell) -> AsyncIterator[None]:
    """On PostgreSQL, ring `doorbell` on every `NOTIFY epa_jobs` while the block runs (other processes'
    jobs); elsewhere, or when the listening connection cannot be opened, nothing (polling remains)."""
    if engine.dialect.name != "postgresql":
        yield
        return
    import asyncpg  # only PostgreSQL deployments have it

    dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    loop = asyncio.get_running_loop()
    connection: Any = None
    try:
        connection = await asyncpg.connect(dsn)
        await connection.add_listener(CHANNEL, lambda *_args: doorbell.ring_threadsafe(loop))
    except Exception as exc:  # the worker still polls
        log.warning("cannot listen for job notifications; polling only", extra={"error_type": type(exc).__name__})
        connection = None
    try:
        yield
    finally:
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close()
