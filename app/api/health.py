"""Liveness (`/healthz`) and readiness (`/readyz`: database reachable, schema current)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app import __version__
from app.api.deps import RuntimeDep
from app.errors import ServiceUnavailable
from app.store import migrate

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, Any]:
    return {"status": "ok", "version": __version__}


@router.get("/readyz", summary="The database is reachable and its schema is current")
async def readyz(runtime: RuntimeDep) -> dict[str, Any]:
    try:
        async with runtime.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        current = await migrate.current_revision(runtime.engine)
    except (SQLAlchemyError, OSError) as exc:
        raise ServiceUnavailable(f"database unreachable ({type(exc).__name__})") from exc
    head = migrate.head_revision()
    if current != head:
        raise ServiceUnavailable(f"database schema is at {current or 'no revision'}, expected {head}")
    return {"status": "ready", "schema": current}
