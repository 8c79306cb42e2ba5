"""Client-assertion ids (`jti`) seen before: each is accepted once, and remembered until it expires.

The hot path of every signed request (a token request, an EHR-signed hook call) spends one statement
here: an insert that takes the id unless a live copy is held (`repository.use_assertion_id`), in
autocommit on PostgreSQL, so the id is spent even when the request then fails. Expired ids are
pruned by the same connection at most once a minute per process (`ReplayGuard`), not on every call:
an expired id is replaced by the insert itself should it come again, so pruning only bounds the
table's size.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from app.security import repository
from app.store.database import writer_turn

PRUNE_EVERY_SECONDS = 60.0


@dataclass(slots=True)
class ReplayGuard:
    """One per process: when it last pruned the expired ids."""

    prune_every_seconds: float = PRUNE_EVERY_SECONDS
    _pruned_at: float | None = None

    def prune_due(self) -> bool:
        """True at most once per period (and on the first call); the caller then prunes."""
        now = time.monotonic()
        if self._pruned_at is not None and now - self._pruned_at < self.prune_every_seconds:
            return False
        self._pruned_at = now
        return True


async def use_assertion_once(
    engine: AsyncEngine, guard: ReplayGuard, client_id: str, jti: str, expires_at: datetime
) -> bool:
    """Record `jti` for `client_id` in its own short transaction; False when a live copy was used before.

    The unique (client_id, jti) constraint decides races between requests and processes.
    """
    async with writer_turn(engine):  # SQLite: one writer at a time in this process
        return await repository.use_assertion_id(
            engine, client_id, jti, expires_at, now=datetime.now(UTC), prune=guard.prune_due()
        )
