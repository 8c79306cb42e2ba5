"""Deliveries go out on wake-ups, not on polls: every worker here polls once a minute (or less often),
so a delivery received within the bound was started by a wake-up (a new job, a sibling that settled,
a delivery due again, an earlier fan-out done). Loopback receivers; bounded counts and waits.
"""

from __future__ import annotations

import asyncio
import sys
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.jobs.loop import Worker
from app.jobs.wakeups import doorbell_of
from app.main import create_app
from app.notifications import enqueue_event
from app.runtime import Runtime
from app.settings import Settings
from app.worker import default_handlers, running_worker
from tests.support.bundles import pas_request
from tests.support.pas import submit
from tests.support.processes import epa_env
from tests.support.receiver import Received, Receiver, running_receiver
from tests.support.rows import add_authorizations

SLOW_POLL = 60.0  # the longest poll the settings allow; idle back-off longer still
BOUND = 15.0  # far below SLOW_POLL: only wake-ups make it
SUBMITS = 8


def _fails_first_attempts() -> Callable[[Received], Awaitable[tuple[int, dict[str, str]]]]:
    """A receiver that answers 500 to the first attempt of every message, then 204 (a little slowly):
    each delivery is due again after its retry delay (0.05 s here), and the one behind it waits."""
    tried: set[str] = set()

    async def behaviour(request: Received) -> tuple[int, dict[str, str]]:
        message = request.headers["webhook-id"]
        if message not in tried:
            tried.add(message)
            return 500, {}
        await asyncio.sleep(0.02)  # in flight while the next delivery's job may run
        return 204, {}

    return behaviour


def _slow_polling(settings: Settings, **changes: object) -> Settings:
    return settings.model_copy(
        update={"worker_poll_seconds": SLOW_POLL, "worker_idle_max_seconds": 10 * SLOW_POLL, **changes}
    )


def _events(receiver: Receiver) -> dict[str, list[str]]:
    """The event types each authorization received, in order of first arrival."""
    seen: set[str] = set()
    order: dict[str, list[str]] = defaultdict(list)
    for request in receiver.requests:
        if request.headers["webhook-id"] in seen:
            continue
        seen.add(request.headers["webhook-id"])
        body = orjson.loads(request.body)
        order[body["data"]["authorization_id"]].append(f"{body['type']}@{body['data']['version']}")
    return order


@asynccontextmanager
async def _worker(runtime: Runtime) -> AsyncIterator[Worker]:
    worker = Worker(
        runtime.sessions,
        default_handlers(runtime),
        poll_interval=SLOW_POLL,
        idle_backoff=10 * SLOW_POLL,
        lease=timedelta(seconds=30),
        wakeups=doorbell_of(runtime.engine),
    )
    async with running_worker(worker, runtime.engine):
        await asyncio.sleep(0.3)  # its first (empty) claim is behind it: it waits
        yield worker


async def test_ordered_deliveries_to_one_endpoint_each_go_out_when_the_one_ahead_settles(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    authorizations, versions = 4, 5
    async with running_receiver(_fails_first_attempts()) as receiver, _worker(runtime):
        assert (await client.post("/webhooks", json={"url": receiver.url, "event_types": ["*"]})).status_code == 201
        async with runtime.sessions.begin() as session:  # every event of every authorization at once
            rows = await add_authorizations(session, "development", runtime.clock(), authorizations)
            for version in range(1, versions + 1):
                for row in rows:
                    row.version = version
                    enqueue_event(session, row, "authorization.pended", now=runtime.clock())
        await receiver.wait_for(2 * authorizations * versions, timeout=BOUND)
    expected = [f"authorization.pended@{version}" for version in range(1, versions + 1)]
    assert list(_events(receiver).values()) == [expected] * authorizations


async def test_single_events_on_an_idle_service_reach_the_receiver_through_the_embedded_worker(
    settings: Settings, engine: AsyncEngine
) -> None:
    app: FastAPI = create_app(_slow_polling(settings, embedded_worker=True))
    async with running_receiver() as receiver, app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            assert (await client.post("/webhooks", json={"url": receiver.url, "event_types": ["*"]})).status_code == 201
            await asyncio.sleep(0.3)  # idle
            for tag in range(SUBMITS):  # one at a time: each $submit is two events, received then approved
                response = await submit(client, pas_request("99212", tag=str(tag)))
                assert response.status_code == 200, response.text
                await receiver.wait_for(2 * (tag + 1), timeout=BOUND)
    order = _events(receiver)
    assert len(order) == SUBMITS
    assert all(
        [t.split("@")[0] for t in types] == ["authorization.received", "authorization.approved"]
        for types in order.values()
    )


async def test_a_burst_reaches_the_receiver_through_a_separate_worker_process(
    client: httpx.AsyncClient, database_url: str, tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("a separate `epa worker` shares the queue through PostgreSQL (SQLite runs it in `epa serve`)")
    env = {
        "EPA_DATABASE_URL": database_url,
        "EPA_DEVELOPMENT": "true",
        "EPA_DATA_DIR": str(tmp_path),
        "EPA_WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        "EPA_WORKER_POLL_SECONDS": str(SLOW_POLL),
        "EPA_WORKER_IDLE_MAX_SECONDS": str(10 * SLOW_POLL),
        "EPA_WEBHOOK_RETRY_SCHEDULE": "[0.05, 0.05, 0.1]",
        "EPA_WORKER_CONCURRENCY": "4",  # fewer slots than jobs: woken while busy, it claims as slots free
    }
    submits, endpoints = 12, 2
    async with running_receiver(_fails_first_attempts()) as receiver:
        for _ in range(endpoints):
            response = await client.post("/webhooks", json={"url": receiver.url, "event_types": ["*"]})
            assert response.status_code == 201
        worker = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "app", "worker", env=epa_env(env), stdout=asyncio.subprocess.DEVNULL
        )
        try:
            response = await submit(client, pas_request("99212", tag="warm-up"))
            assert response.status_code == 200
            await receiver.wait_for(2 * 2 * endpoints, timeout=30)  # the worker is up and listening
            responses = await asyncio.gather(
                *(submit(client, pas_request("99212", tag=str(tag))) for tag in range(submits))
            )
            assert all(r.status_code == 200 for r in responses)
            await receiver.wait_for(2 * 2 * endpoints * (submits + 1), timeout=BOUND)
        finally:
            worker.terminate()
            await asyncio.wait_for(worker.wait(), 30)
    order = _events(receiver)
    assert len(order) == submits + 1
    assert all(len(types) == 2 * endpoints for types in order.values())
