"""The runtime's connection pool keeps open as many connections as a busy process uses at once (a worker's
jobs and the requests beside them), so a burst does not open and close a connection per checkout."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.runtime import Runtime, build_runtime
from tests.support.runtime import development_settings

BURST = 15  # more than the pool of 10 the runtime used to keep


async def _burst(runtime: Runtime, size: int) -> int:
    """`size` sessions holding a connection at once; how many connections the pool keeps afterwards."""
    gate = asyncio.Event()

    async def hold() -> None:
        async with runtime.sessions() as session:
            await session.execute(text("SELECT 1"))
            await gate.wait()

    tasks = [asyncio.create_task(hold()) for _ in range(size)]
    await asyncio.sleep(0.2)
    gate.set()
    await asyncio.gather(*tasks)
    pool = runtime.engine.pool
    return int(pool.checkedin())  # type: ignore[attr-defined]


async def test_a_burst_as_wide_as_a_workers_jobs_and_requests_keeps_its_connections_open(
    database_url: str, tmp_path: Path, engine: AsyncEngine
) -> None:
    settings = development_settings(database_url, tmp_path)
    assert settings.effective_database_pool_size == settings.worker_concurrency + 10 > BURST
    async with build_runtime(settings) as runtime:
        assert await _burst(runtime, BURST) == BURST


async def test_the_pool_size_setting_bounds_what_is_kept(
    database_url: str, tmp_path: Path, engine: AsyncEngine
) -> None:
    async with build_runtime(development_settings(database_url, tmp_path, database_pool_size=4)) as runtime:
        assert await _burst(runtime, 8) == 4  # the four beyond it were opened for the burst and closed


@pytest.mark.parametrize("value", [0, 1001])
def test_a_pool_size_out_of_range_is_refused(value: int, tmp_path: Path) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="database_pool_size"):
        development_settings("sqlite+aiosqlite:///x", tmp_path, database_pool_size=value)
