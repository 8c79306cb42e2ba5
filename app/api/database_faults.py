"""Which database failures mean "the store cannot take this now" (answered 503 with Retry-After),
as opposed to a fault in the request or the code (a 4xx or a 500).

Unavailable: no connection (refused, dropped, timed out, the pool exhausted), a read-only
database (PostgreSQL in a read-only transaction or a standby: SQLSTATE 25006; a SQLite file
opened read-only), a server short of resources or shutting down (SQLSTATE classes 53, 57P, 58,
08), and SQLite's operational errors (read-only, locked, disk I/O, full). Integrity and data
errors are not: they come from what was sent or from a bug.

One integrity error is an answer of its own: a unique key violated (`unique_violation`) means a
concurrent request stored the same thing first, after this one checked it was not there (every
"look, then insert" does this under concurrency); that is 409, like the check itself would have
answered a moment later.
"""

from __future__ import annotations

from sqlalchemy import exc

_UNAVAILABLE_STATES = ("08", "25006", "53", "57P", "58")
_UNIQUE_VIOLATION = "23505"
_SQLITE_UNIQUE = (1555, 2067)  # SQLITE_CONSTRAINT_PRIMARYKEY, SQLITE_CONSTRAINT_UNIQUE


def _sqlstate(error: BaseException) -> str | None:
    state = getattr(getattr(error, "orig", None), "sqlstate", None)
    return state if isinstance(state, str) else None


def database_unavailable(error: BaseException) -> bool:
    """Whether `error` (or what caused it) says the database cannot serve or store this request now."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, exc.TimeoutError | exc.DisconnectionError | ConnectionError | TimeoutError):
            return True
        if isinstance(current, exc.DBAPIError):
            if current.connection_invalidated:
                return True
            state = _sqlstate(current)
            if state is not None:
                return state.startswith(_UNAVAILABLE_STATES)
            # SQLite: read-only, locked, disk I/O error, disk full; a lost connection
            return isinstance(current, exc.OperationalError)
        if isinstance(current, OSError):
            return True
        current = current.__cause__ or current.__context__
    return False


def unique_violation(error: BaseException) -> bool:
    """Whether `error` is a unique key violated (PostgreSQL SQLSTATE 23505, SQLite's UNIQUE constraint)."""
    if not isinstance(error, exc.IntegrityError):
        return False
    if _sqlstate(error) == _UNIQUE_VIOLATION:
        return True
    return getattr(error.orig, "sqlite_errorcode", None) in _SQLITE_UNIQUE
