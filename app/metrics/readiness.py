"""What `/readyz` answers: the database is reachable and its schema is current (the store's check), and
how the worker is doing (the queue's figures, as `/metrics` reads them).

A database that does not answer, refuses writes (read-only, full: a no-op UPDATE rolled back),
or whose schema is not the revision this code expects, is `ServiceUnavailable`; a missing worker
is not (requests are stored and answered), but an operator
sees at once that follow-ups and deliveries are not moving.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.errors import ServiceUnavailable
from app.jobs.repository import Clock
from app.metrics.queries import last_worker_activity, oldest_due_job
from app.settings import Settings
from app.store.health import accepts_writes, schema_revision
from app.store.migrate import head_revision


class ReadinessDeps(Protocol):
    @property
    def settings(self) -> Settings: ...

    @property
    def engine(self) -> AsyncEngine: ...

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]: ...

    @property
    def clock(self) -> Clock: ...


async def _worker_status(deps: ReadinessDeps) -> dict[str, Any]:
    """Whether a worker touched a job within 3 leases, and how long the head of the queue has waited."""
    now = deps.clock()
    async with deps.sessions() as session:
        last = await last_worker_activity(session)
        oldest = await oldest_due_job(session, now)
    recent = timedelta(seconds=3 * deps.settings.worker_lease_seconds)
    return {
        "last_activity_at": last.isoformat() if last else None,
        "active": last is not None and now - last <= recent,
        "oldest_queued_job_seconds": round((now - oldest).total_seconds(), 3) if oldest else 0.0,
    }


async def readiness(deps: ReadinessDeps) -> dict[str, Any]:
    """The `/readyz` body: ready, the schema revision and the worker's status (else ServiceUnavailable)."""
    try:
        current = await schema_revision(deps.engine)
        worker = await _worker_status(deps)
    except (SQLAlchemyError, OSError) as exc:
        raise ServiceUnavailable(f"database unreachable ({type(exc).__name__})") from exc
    head = head_revision()
    if current != head:
        raise ServiceUnavailable(f"database schema is at {current or 'no revision'}, expected {head}")
    try:
        await accepts_writes(deps.engine)
    except (SQLAlchemyError, OSError) as exc:
        raise ServiceUnavailable(
            f"database refuses writes ({type(exc).__name__})", headers={"Retry-After": "5"}
        ) from exc
    return {"status": "ready", "schema": current, "worker": worker}
