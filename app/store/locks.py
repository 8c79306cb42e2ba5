"""Transaction-scoped locks: serialize a check against the write that would change its answer.

`transaction_lock(session, "namespace", *ids)` holds a lock named by its arguments until the
session's transaction ends (commit or rollback), so two transactions that both take it run their
statements after it one at a time, and the second sees what the first committed.

- PostgreSQL: `pg_advisory_xact_lock` on a 64-bit key hashed from the name (one round trip; other
  names never wait).
- SQLite: the database's write lock, taken by an UPDATE that matches nothing. SQLite has one
  writer, so every name is the same lock; it is taken anyway by the first write of any
  transaction, and taking it before a check makes the check's reads part of the write transaction
  (pysqlite runs reads before the first write outside any transaction, each on a fresh snapshot).

Used by the per-target ordering of deliveries (`app.notifications.ordering`): a delivery that
decides to wait for an earlier one and the earlier one waking it when it settles must not cross.
"""

from __future__ import annotations

import hashlib
from typing import cast

from sqlalchemy import BigInteger, Table, bindparam, false, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.store.models import Job
from app.store.prepared import Prepared

_JOBS = cast("Table", Job.__table__)
# Built and compiled once, sent as driver SQL (`app.store.prepared`): the ordering of every settled delivery takes one.
_POSTGRESQL = Prepared(select(func.pg_advisory_xact_lock(bindparam("key", type_=BigInteger))))
_SQLITE = Prepared(update(_JOBS).where(false()).values(id=_JOBS.c.id))


def lock_key(namespace: str, *parts: object) -> int:
    """A signed 64-bit key for `pg_advisory_xact_lock`, stable across processes."""
    digest = hashlib.blake2b("|".join((namespace, *map(str, parts))).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


async def transaction_lock(session: AsyncSession, namespace: str, *parts: object, before_a_write: bool = False) -> None:
    """Block until this transaction holds the lock named (namespace, *parts); released at its end.

    `before_a_write`: the caller's next statement writes (an UPDATE whose reads are its own). On SQLite
    that write takes the one write lock before it reads, so no separate statement is sent there."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        await _POSTGRESQL.execute(session, {"key": lock_key(namespace, *parts)})
        return
    if before_a_write:
        return
    await _SQLITE.execute(session, {})
