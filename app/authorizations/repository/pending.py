"""The hot path's write: the new rows of a unit of work as Core multi-row INSERTs, without the ORM's flush.

`$submit` builds its rows (the authorization, its items and patient identifiers, the timeline events,
the fan-out, follow-up and clock jobs, the audit record) where they are decided, from the aggregate's
state, and leaves them pending in the session. The ORM unit of work would then sort, track and insert
them one by one and register each in the identity map: a third of a `$submit`'s CPU. `insert_pending`
instead takes them out of the session and writes them with Core, parents first:
- on PostgreSQL, as one statement: a multi-row `INSERT ... VALUES` per table and column set, the first
  the statement itself, the others data-modifying common table expressions (`WITH w1 AS (INSERT ...)`).
  Each statement is a round trip with its own execution context in SQLAlchemy and asyncpg, which cost
  more than the rows; foreign keys are checked at the end of the statement, so the children's rows may
  come in the same one as their parent's. It is compiled once per shape and sent as driver SQL with its
  values processed by the column types' bind processors. (A unit of work too big for one statement's bind
  parameters is written one table at a time.)
- on SQLite, which has no data-modifying common table expressions (and no round trips), one
  executemany per table and column set.
The values are the same column values the ORM would have written (Core applies the same column types
and defaults); objects already in the database and changes to them are left to the session, which
flushes them at commit as before.

The rows written are transient (out of the session) afterwards: their values stay readable, their server-generated keys
(items', events', jobs' ids) are not read back, which the hot path never needs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, cast

from sqlalchemy import BindParameter, Table, TextClause, bindparam, insert, inspect, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import MANYTOONE, InstanceState, Mapper, make_transient
from sqlalchemy.sql.schema import CallableColumnDefault, ScalarElementColumnDefault

from app.store.models.base import Base

_ORDER = {table: position for position, table in enumerate(Base.metadata.sorted_tables)}
_MAX_PARAMETERS = 30_000  # PostgreSQL takes at most 32,767 bind parameters in one statement


@dataclass(frozen=True, slots=True)
class _Shape:
    """What `_row` reads from one mapped class: its table, its columns' attributes, its parents' keys."""

    table: Table
    columns: tuple[tuple[str, str], ...]  # (attribute, column key)
    parents: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]  # (relationship, ((column key, parent's attribute)))


@cache
def _shape(mapper: Mapper[Any]) -> _Shape:
    table = mapper.local_table
    assert isinstance(table, Table)
    parents = []
    for relationship in mapper.relationships:
        if relationship.direction is MANYTOONE:
            pairs = tuple((str(local.key), str(remote.key)) for local, remote in relationship.local_remote_pairs or ())
            parents.append((relationship.key, pairs))
    columns = tuple((prop.key, str(prop.columns[0].key)) for prop in mapper.column_attrs)
    return _Shape(table, columns, tuple(parents))


def _row(shape: _Shape, values: dict[str, Any]) -> dict[str, Any]:
    """The column values set on a pending object, with the keys of the parents it was attached to."""
    row = {column: values[attribute] for attribute, column in shape.columns if attribute in values}
    for key, pairs in shape.parents:
        parent = values.get(key)
        if parent is not None:
            for local, remote in pairs:
                row[local] = getattr(parent, remote)
    return row


async def insert_pending(session: AsyncSession) -> int:
    """Insert every pending object of `session` with Core statements and detach it; the statements sent
    (one on PostgreSQL, one per table and column set on SQLite)."""
    pending = list(session.new)
    if not pending:
        return 0
    tables: dict[Table, list[dict[str, Any]]] = defaultdict(list)
    for obj in pending:
        state: InstanceState[Any] = inspect(obj)
        shape = _shape(state.mapper)
        tables[shape.table].append(_with_defaults(shape.table, _row(shape, state.dict)))
    for obj in pending:
        make_transient(obj)  # out of the session, one by one (expunge would walk each one's cascades)
    groups: dict[tuple[Table, tuple[str, ...]], list[dict[str, Any]]] = defaultdict(list)
    for table, rows in tables.items():
        # A column one row leaves unset is NULL in it (no column here has a server default): one column set
        # per table, so one INSERT, unless a key generated by the database is set in some rows only.
        unset = {key for row in rows for key in row} - _GENERATED[table]
        for row in rows:
            for key in unset.difference(row):
                row[key] = None
            groups[(table, tuple(sorted(row)))].append(row)
    ordered = sorted(groups, key=lambda group: (_ORDER[group[0]], group[1]))
    parameters = sum(len(keys) * len(groups[(table, keys)]) for table, keys in ordered)
    if session.get_bind().dialect.name == "postgresql" and parameters <= _MAX_PARAMETERS:
        layout = tuple((table, keys, len(groups[(table, keys)])) for table, keys in ordered)
        connection = await session.connection()
        prepared = _prepared(layout, connection.dialect)
        written = [groups[group] for group in ordered]
        arguments = tuple(
            written[position][number][key] if process is None else process(written[position][number][key])
            for position, number, key, process in prepared.slots
        )
        await connection.exec_driver_sql(prepared.sql, arguments)
        return 1
    for table, keys in ordered:
        await session.execute(insert(table), groups[(table, keys)])
    return len(groups)


def _with_defaults(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    """`row` with the Python-side defaults of the columns it does not set (what Core's INSERT would add)."""
    for column in _DEFAULTED[table]:
        if column.key not in row:
            default = column.default
            assert isinstance(default, ScalarElementColumnDefault | CallableColumnDefault)
            scalar = isinstance(default, ScalarElementColumnDefault)
            row[column.key] = default.arg if scalar else cast(Any, default.arg)(None)  # callables take a context
    return row


_DEFAULTED = {table: [column for column in table.columns if column.default is not None] for table in _ORDER}
_GENERATED = {
    table: {column.key for column in table.columns if column.primary_key or column.server_default is not None}
    for table in _ORDER
}
_QUOTE = cast(Any, postgresql.dialect)().identifier_preparer.quote


@dataclass(frozen=True, slots=True)
class _Prepared:
    """`_one_statement` compiled for a dialect: its text, and for each of its positional parameters in order,
    where the value is (group position, row number, column key) and the column type's bind processor."""

    sql: str
    slots: tuple[tuple[int, int, str, Callable[[Any], Any] | None], ...]


@lru_cache(maxsize=512)
def _prepared(shape: tuple[tuple[Table, tuple[str, ...], int], ...], dialect: Dialect) -> _Prepared:
    """The statement of one shape compiled once, sent as driver SQL with its values already processed: a
    `$submit`'s hundred-odd parameters then skip SQLAlchemy's per-execution work for a compiled statement
    (the parameter dict built from the bind names, each value looked up and processed through the execution
    context), which cost more than the values' own processing. The processors are the compiled statement's own
    (the same column types, so the same values reach the driver as through `session.execute`)."""
    compiled = _one_statement(shape).compile(dialect=dialect)
    where = {
        f"p{position}_{number}_{key}": (position, number, key)
        for position, (_, keys, rows) in enumerate(shape)
        for number in range(rows)
        for key in keys
    }
    processors = cast(dict[str, Callable[[Any], Any]], compiled._bind_processors)  # no tuple types here
    names = compiled.positiontup or []
    return _Prepared(compiled.string, tuple((*where[name], processors.get(name)) for name in names))


def _one_statement(shape: tuple[tuple[Table, tuple[str, ...], int], ...]) -> TextClause:
    """The first table's multi-row INSERT, with the others' as data-modifying common table expressions, for
    one shape of unit of work (tables, column sets, row counts), its parameters named `p{table}_{row}_{key}`.
    Built and compiled once per shape and dialect by `_prepared`, which caches the result."""
    inserts: list[str] = []
    parameters: list[BindParameter[Any]] = []
    for position, (table, keys, rows) in enumerate(shape):
        columns = [table.c[key] for key in keys]
        names = ", ".join(_QUOTE(column.name) for column in columns)
        tuples = []
        for number in range(rows):
            row = [f"p{position}_{number}_{key}" for key in keys]
            parameters += [bindparam(name, type_=column.type) for name, column in zip(row, columns, strict=True)]
            tuples.append("(" + ", ".join(f":{name}" for name in row) + ")")
        into = f"INSERT INTO {_QUOTE(table.name)} ({names})"  # quoted names only: the values are bound
        inserts.append(f"{into} VALUES {', '.join(tuples)}")
    first, *rest = inserts
    ctes = ", ".join(f"w{position} AS ({statement})" for position, statement in enumerate(rest, start=1))
    return text(f"WITH {ctes} {first}" if ctes else first).bindparams(*parameters)
