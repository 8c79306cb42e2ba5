"""A hot statement compiled once per dialect and sent as driver SQL with its values already processed.

A Core statement built once at import is compiled once by the engine's cache, yet each execution still
pays SQLAlchemy's per-execution parameter handling: the parameter dict built from the bind names, each
value looked up and put through its type's processor by the execution context, the result's metadata.
For a statement that runs per job (a webhook delivery's outcome), that handling costs more than the
values. `Prepared` compiles the statement once per dialect, keeps the compiled statement's own bind
processors (the column types', so the driver gets the same values as through `session.execute`) and the
values of the bound literals the expression carries (states, a LIMIT), and sends the SQL with
`exec_driver_sql` on the session's connection: in the session's transaction, seen by the engine's cursor
events like any statement. `$submit`'s write (`app/authorizations/repository/pending.py`) is sent with it too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    slots: tuple[tuple[str | None, Any, Callable[[Any], Any] | None], ...]
    """Per positional parameter: (the caller's bind name, None, its processor), or (None, a literal of the
    expression already processed, None)."""


class Prepared:
    """`statement` (whose own bind parameters the caller names in `execute`), compiled once per dialect."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def _for(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            statement = cast(SQLCompiler, self.statement.compile(dialect=dialect))
            assert statement.positional, "asyncpg and aiosqlite take positional parameters"
            assert "POSTCOMPILE" not in statement.string, "an IN list is expanded per execution: not prepared here"
            processors = cast(dict[str, Callable[[Any], Any]], statement._bind_processors)  # no tuple types here
            slots: list[tuple[str | None, Any, Callable[[Any], Any] | None]] = []
            for name in statement.positiontup or ():
                bind, process = statement.binds[name], processors.get(name)
                if bind.required:  # the caller's
                    slots.append((name, None, process))
                else:  # a literal of the expression (a state, a LIMIT): processed once
                    value = bind.effective_value
                    slots.append((None, value if process is None else process(value), None))
            compiled = self._compiled[dialect.name] = _Compiled(statement.string, tuple(slots))
        return compiled

    async def execute(self, session: AsyncSession, values: Mapping[str, Any]) -> CursorResult[Any]:
        """Run it in the session's transaction with `values` for its bind parameters (every one must be given)."""
        connection = await session.connection()
        compiled = self._for(connection.dialect)
        arguments = []
        for name, literal, process in compiled.slots:
            value = literal if name is None else values[name]
            arguments.append(value if process is None else process(value))
        return await connection.exec_driver_sql(compiled.sql, tuple(arguments))
