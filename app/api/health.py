"""Liveness (`/healthz`) and readiness (`/readyz`: database reachable, schema current, worker seen)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app import __version__
from app.api.deps import RuntimeDep
from app.metrics.readiness import readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, Any]:
    return {"status": "ok", "version": __version__}


@router.get("/readyz", summary="The database is reachable and its schema is current; how the worker is doing")
async def readyz(runtime: RuntimeDep) -> dict[str, Any]:
    return await readiness(runtime)
