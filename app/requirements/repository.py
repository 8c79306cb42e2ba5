"""The coverage assertions CRD answers leave behind (a later `$submit` links the ones it names).

A hook call's only write, stored before its answer is sent. Concurrent calls share the statement
("group commit"): a call's rows join the batch that is waiting, and one task per engine stores each
batch with one INSERT of values (the rows of every call in it, no RETURNING, built once) on a
connection of its own, then wakes the calls it carried. A call that finds no statement in flight
is stored at once (no timer, no added wait); under load, the calls that arrive while a statement is
in flight go together in the next one, so the process holds one connection for them instead of one
each. On PostgreSQL the connection runs in autocommit, so the statement is its own transaction: one
round trip instead of BEGIN, INSERT, COMMIT (asyncpg sends the rows of one statement in one pipelined
exchange, atomically). SQLite's driver already folds BEGIN into the statement; there the connection
commits as usual (and the batches are SQLite's single writer, in arrival order).

A batch that fails is stored again call by call, so one call's rows never fail another's; each call
gets its own statement's error.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn

from app.store.models import CoverageAssertion

_INSERT = insert(cast(Table, CoverageAssertion.__table__))

Rows = Sequence[dict[str, Any]]
_Call = tuple[Rows, "asyncio.Future[None]"]


async def add_assertions(engine: AsyncEngine, rows: Rows) -> None:
    """Store the assertions (column name -> value, every column given); returns once they are committed."""
    if rows:
        await _writer(engine).store(engine, rows)


class _AssertionWriter:
    """The calls waiting to be stored on one engine, and the task storing them (None when idle)."""

    def __init__(self) -> None:
        self._waiting: list[_Call] = []
        self._task: asyncio.Task[None] | None = None

    async def store(self, engine: AsyncEngine, rows: Rows) -> None:
        loop = asyncio.get_running_loop()
        if self._task is not None and self._task.get_loop() is not loop:  # an earlier event loop's (tests)
            self._waiting, self._task = [], None
        done: asyncio.Future[None] = loop.create_future()
        self._waiting.append((rows, done))
        if self._task is None:
            self._task = loop.create_task(self._run(engine))
        await done

    async def _run(self, engine: AsyncEngine) -> None:
        batch: list[_Call] = []
        try:
            while self._waiting:  # no await between the last check and the end: a later call starts a new task
                batch, self._waiting = self._waiting, []
                await _store_batch(engine, batch)
                batch = []
        except BaseException as exc:  # cancelled (the loop is closing): nothing is left waiting forever
            for _, done in [*batch, *self._waiting]:
                _settle(done, exc)
            self._waiting = []
            raise
        finally:
            self._task = None


async def _store_batch(engine: AsyncEngine, batch: list[_Call]) -> None:
    try:
        await _insert(engine, [row for rows, _ in batch for row in rows])
    except Exception as exc:
        if len(batch) == 1:
            _settle(batch[0][1], exc)
            return
        for rows, done in batch:  # one call's rows must not fail another's
            try:
                await _insert(engine, rows)
            except Exception as own:
                _settle(done, own)
            else:
                _settle(done, None)
        return
    for _, done in batch:
        _settle(done, None)


async def _insert(engine: AsyncEngine, rows: Rows) -> None:
    # One greenlet for the whole write (check-out, statement, commit, check-in), as AsyncConnection.run_sync
    # does for its part: awaiting each step through the asyncio API starts a greenlet per step, which cost a
    # quarter of the write.
    await greenlet_spawn(_insert_sync, engine.sync_engine, list(rows))


def _insert_sync(engine: Engine, rows: list[dict[str, Any]]) -> None:
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.execute(_INSERT, rows)
        connection.commit()


def _settle(done: asyncio.Future[None], error: BaseException | None) -> None:
    if done.done():  # the call was cancelled (its client went away); its rows were stored all the same
        return
    if error is None:
        done.set_result(None)
    elif isinstance(error, asyncio.CancelledError):
        done.cancel()
    else:
        done.set_exception(error)


_WRITERS: weakref.WeakKeyDictionary[Engine, _AssertionWriter] = weakref.WeakKeyDictionary()


def _writer(engine: AsyncEngine) -> _AssertionWriter:
    """The engine's writer (it holds no reference to the engine, so it goes with it)."""
    writer = _WRITERS.get(engine.sync_engine)
    if writer is None:
        writer = _WRITERS[engine.sync_engine] = _AssertionWriter()
    return writer
