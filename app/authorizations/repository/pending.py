"""The hot path's write: the new rows of a unit of work as Core multi-row INSERTs, without the ORM's flush.

`$submit` builds its rows (the authorization, its items and patient identifiers, the timeline events,
the fan-out, follow-up and clock jobs, the audit record) where they are decided, from the aggregate's
state, and leaves them pending in the session. The ORM unit of work would then sort, track and insert
them one by one and register each in the identity map: a third of a `$submit`'s CPU. `insert_pending`
instead takes them out of the session and writes one INSERT per table (a multi-row executemany: one
statement per table and column set), parents first. The values are the same column values the ORM
would have written (Core applies the same column types and defaults); objects already in the database
and changes to them are left to the session, which flushes them at commit as before.

The rows written are transient (out of the session) afterwards: their values stay readable, their server-generated keys
(items', events', jobs' ids) are not read back, which the hot path never needs.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Table, insert, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import MANYTOONE, InstanceState, make_transient

from app.store.models.base import Base

_ORDER = {table: position for position, table in enumerate(Base.metadata.sorted_tables)}


def _row(state: InstanceState[Any]) -> dict[str, Any]:
    """The column values set on a pending object, with the keys of the parents it was attached to."""
    mapper = state.mapper
    values = state.dict
    row: dict[str, Any] = {}
    for prop in mapper.column_attrs:
        if prop.key in values:
            row[prop.columns[0].key] = values[prop.key]
    for relationship in mapper.relationships:
        parent = values.get(relationship.key)
        if relationship.direction is not MANYTOONE or parent is None:
            continue
        for local, remote in relationship.local_remote_pairs or ():
            assert local.key is not None
            assert remote.key is not None
            row[local.key] = getattr(parent, remote.key)
    return row


async def insert_pending(session: AsyncSession) -> int:
    """Insert every pending object of `session` with Core statements and detach it; the statements sent."""
    pending = list(session.new)
    if not pending:
        return 0
    groups: dict[tuple[Table, tuple[str, ...]], list[dict[str, Any]]] = defaultdict(list)
    for obj in pending:
        state: InstanceState[Any] = inspect(obj)
        row = _row(state)
        table = state.mapper.local_table
        assert isinstance(table, Table)
        groups[(table, tuple(sorted(row)))].append(row)
    for obj in pending:
        make_transient(obj)  # out of the session, one by one (expunge would walk each one's cascades)
    for table, _keys in sorted(groups, key=lambda group: (_ORDER[group[0]], group[1])):
        await session.execute(insert(table), groups[(table, _keys)])
    return len(groups)
