"""Settings for delivery tests: loopback targets allowed, short timeouts, an accelerated retry schedule."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI

from app.runtime import Runtime
from app.settings import Settings
from app.worker import default_handlers
from app.worker_loop import Worker


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        development=True,
        data_dir=tmp_path,
        embedded_worker=False,
        webhook_allow_private_targets=True,
        webhook_timeout_seconds=2.0,
        webhook_retry_schedule=[0.05, 0.05, 0.1, 0.1, 0.2, 0.2, 0.2, 0.2],
        _env_file=None,
    )


@pytest.fixture
def runtime(app: FastAPI) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime


async def drain(runtime: Runtime, *, rounds: int = 200, concurrency: int = 20) -> None:
    """Run the worker until no job is due (waiting briefly for rescheduled retries to come due)."""
    import asyncio

    worker = Worker(runtime.sessions, default_handlers(runtime), batch_size=concurrency, concurrency=concurrency)
    idle = 0
    for _ in range(rounds):
        if await worker.run_once():
            idle = 0
            continue
        idle += 1
        if idle > 5:
            return
        await asyncio.sleep(0.1)
