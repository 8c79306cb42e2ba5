"""Worker liveness without traffic (issue 26, point 7): an idle worker heartbeats, so `/readyz` says
`active` and the worker-age metric stays small on a quiet night; a stopped worker's age grows."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.jobs.heartbeat import beating, interval_for
from app.jobs.repository.heartbeats import beat
from app.runtime import Runtime
from app.store.models import WorkerHeartbeat
from app.worker import running_worker, worker_from_settings


def _age(metrics: str) -> float:
    line = next(line for line in metrics.splitlines() if line.startswith("epa_worker_last_activity_age_seconds "))
    return float(line.split()[1])


async def test_an_idle_worker_is_active_and_its_age_stays_small(app: FastAPI, client: httpx.AsyncClient) -> None:
    runtime: Runtime = app.state.runtime
    before = (await client.get("/readyz")).json()["worker"]
    assert before["active"] is False  # no worker yet, no job ever ran

    worker = worker_from_settings(runtime.sessions, {}, runtime.settings, worker_id="idle-worker")
    async with running_worker(worker):  # no job at all: a quiet night
        async with asyncio.timeout(10):
            while True:
                async with runtime.sessions() as session:
                    if await session.scalar(select(WorkerHeartbeat.beat_at)) is not None:
                        break
                await asyncio.sleep(0.05)
        ready = (await client.get("/readyz")).json()["worker"]
        metrics = (await client.get("/metrics")).text

    assert ready["active"] is True
    assert ready["last_activity_at"] is not None
    assert _age(metrics) < 60


async def test_a_worker_that_stopped_beating_is_not_active(app: FastAPI, client: httpx.AsyncClient) -> None:
    runtime: Runtime = app.state.runtime
    now = runtime.clock()
    stale = now - timedelta(seconds=4 * runtime.settings.worker_lease_seconds)
    async with runtime.sessions.begin() as session:
        await beat(session, "stopped-worker", now=stale, started_at=stale)

    ready = (await client.get("/readyz")).json()["worker"]
    metrics = (await client.get("/metrics")).text

    assert ready["active"] is False
    assert _age(metrics) >= 4 * runtime.settings.worker_lease_seconds


async def test_a_beat_updates_one_row_per_worker_and_forgets_workers_silent_for_a_week(app: FastAPI) -> None:
    runtime: Runtime = app.state.runtime
    now = runtime.clock()
    async with runtime.sessions.begin() as session:
        await beat(session, "gone", now=now - timedelta(days=8), started_at=now - timedelta(days=9))
    async with runtime.sessions.begin() as session:
        await beat(session, "w1", now=now - timedelta(seconds=10), started_at=now - timedelta(seconds=10))
    async with runtime.sessions.begin() as session:
        await beat(session, "w1", now=now, started_at=now)
    async with runtime.sessions() as session:
        rows = (await session.execute(select(WorkerHeartbeat))).scalars().all()
    assert [(row.worker_id, row.beat_at, row.started_at) for row in rows] == [("w1", now, now - timedelta(seconds=10))]


async def test_a_failed_beat_is_logged_and_tried_again(caplog: pytest.LogCaptureFixture) -> None:
    calls = 0

    def broken_sessions() -> object:
        nonlocal calls
        calls += 1
        raise OSError("database away")

    caplog.set_level(logging.WARNING)
    clock = lambda: datetime.now(UTC)  # noqa: E731
    async with beating(broken_sessions, "w-broken", clock, every=0.01):  # type: ignore[arg-type]
        async with asyncio.timeout(5):
            while calls < 2:
                await asyncio.sleep(0.01)
    assert any(r.getMessage() == "worker heartbeat failed" for r in caplog.records)
    assert interval_for(60) == 15
    assert interval_for(8) == 2
