"""Liveness (`/healthz`) and readiness (`/readyz`: database reachable, schema current, worker seen)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app import __version__
from app.api.deps import RuntimeDep
from app.errors import ServiceUnavailable
from app.metrics.database import last_worker_activity, oldest_due_job
from app.runtime import Runtime
from app.store import migrate

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, Any]:
    return {"status": "ok", "version": __version__}


async def _worker_status(runtime: Runtime) -> dict[str, Any]:
    """Whether a worker touched a job within 3 leases, and how long the head of the queue has waited.

    Informational: the API stays ready without a worker (requests are stored and answered), but an
    operator sees at once that follow-ups and deliveries are not moving.
    """
    now = runtime.clock()
    async with runtime.sessions() as session:
        last = await last_worker_activity(session)
        oldest = await oldest_due_job(session, now)
    recent = timedelta(seconds=3 * runtime.settings.worker_lease_seconds)
    return {
        "last_activity_at": last.isoformat() if last else None,
        "active": last is not None and now - last <= recent,
        "oldest_queued_job_seconds": round((now - oldest).total_seconds(), 3) if oldest else 0.0,
    }


@router.get("/readyz", summary="The database is reachable and its schema is current; how the worker is doing")
async def readyz(runtime: RuntimeDep) -> dict[str, Any]:
    try:
        async with runtime.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        current = await migrate.current_revision(runtime.engine)
        worker = await _worker_status(runtime)
    except (SQLAlchemyError, OSError) as exc:
        raise ServiceUnavailable(f"database unreachable ({type(exc).__name__})") from exc
    head = migrate.head_revision()
    if current != head:
        raise ServiceUnavailable(f"database schema is at {current or 'no revision'}, expected {head}")
    return {"status": "ready", "schema": current, "worker": worker}
