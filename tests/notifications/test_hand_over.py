"""An event's fan-out hands the deliveries it writes to its own worker: written leased to it and started
once the fan-out commits, with no second claim and no look-up; within its own slot and the worker's free
ones; the order of one authorization's deliveries kept."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import httpx
import orjson
from sqlalchemy import select

from app.jobs.contract import ClaimedJob
from app.jobs.loop import Worker
from app.jobs.wakeups import doorbell_of
from app.notifications import enqueue_event
from app.notifications.events import WEBHOOK_DELIVER
from app.runtime import Runtime
from app.store.models import Job, WebhookDelivery
from app.worker import default_handlers
from tests.support.receiver import Receiver, running_receiver
from tests.support.rows import add_authorizations

SLOW_POLL = 60.0  # only wake-ups and hand-overs can start a job within the test's bounds
BOUND = 15.0


class CountingWorker(Worker):
    claimed: list[str]

    async def _claim(self, limit: int) -> tuple[list[ClaimedJob], datetime | None]:
        jobs, next_at = await super()._claim(limit)
        self.claimed += [job.kind for job in jobs]
        return jobs, next_at


def _worker(runtime: Runtime, *, concurrency: int) -> CountingWorker:
    worker = CountingWorker(
        runtime.sessions,
        default_handlers(runtime),
        concurrency=concurrency,
        poll_interval=SLOW_POLL,
        idle_backoff=10 * SLOW_POLL,
        lease=timedelta(seconds=30),
        wakeups=doorbell_of(runtime.engine),
    )
    worker.claimed = []
    return worker


async def _publish(runtime: Runtime, events: int) -> None:
    async with runtime.sessions.begin() as session:
        (row,) = await add_authorizations(session, "development", runtime.clock(), 1)
        for version in range(1, events + 1):
            row.version = version
            enqueue_event(session, row, "authorization.pended", now=runtime.clock())


async def _run(worker: Worker, until: asyncio.Future[None]) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        async with asyncio.timeout(BOUND):
            await until
            while worker.in_hand:
                await asyncio.sleep(0.02)
    finally:
        stop.set()
        await asyncio.wait_for(task, BOUND)


async def _one_event_to(
    endpoints: int, client: httpx.AsyncClient, runtime: Runtime, *, concurrency: int
) -> tuple[CountingWorker, Receiver]:
    """One event to `endpoints` webhook endpoints, run by a worker of `concurrency` until all arrived."""
    async with running_receiver() as receiver:
        for _ in range(endpoints):
            assert (await client.post("/webhooks", json={"url": receiver.url, "event_types": ["*"]})).status_code == 201
        worker = _worker(runtime, concurrency=concurrency)
        await _publish(runtime, 1)
        await _run(worker, asyncio.ensure_future(receiver.wait_for(endpoints, timeout=BOUND)))
    return worker, receiver


async def test_a_fan_outs_deliveries_start_in_its_worker_without_a_claim(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    endpoints = 3
    worker, receiver = await _one_event_to(endpoints, client, runtime, concurrency=10)
    assert WEBHOOK_DELIVER not in worker.claimed  # the fan-out's own worker ran them, unclaimed
    async with runtime.sessions() as session:
        deliveries = (await session.scalars(select(WebhookDelivery))).all()
        jobs = (await session.scalars(select(Job).where(Job.kind == WEBHOOK_DELIVER))).all()
    assert sorted((d.state, d.attempts) for d in deliveries) == [("delivered", 1)] * endpoints
    assert sorted((j.state, j.attempts, j.locked_by) for j in jobs) == [("done", 1, None)] * endpoints
    assert len({request.headers["webhook-id"] for request in receiver.requests}) == endpoints


async def test_a_fan_out_hands_over_no_more_deliveries_than_its_own_slot_and_the_free_ones(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    endpoints = 3
    # the fan-out's slot and the free one: two handed over
    worker, _receiver = await _one_event_to(endpoints, client, runtime, concurrency=2)
    assert worker.claimed.count(WEBHOOK_DELIVER) == endpoints - 2


async def test_the_deliveries_of_one_authorizations_events_still_go_out_in_order(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    async with running_receiver() as receiver:
        assert (await client.post("/webhooks", json={"url": receiver.url, "event_types": ["*"]})).status_code == 201
        worker = _worker(runtime, concurrency=10)
        await _publish(runtime, 3)  # three events of one authorization: each delivery waits for the one ahead
        await _run(worker, asyncio.ensure_future(receiver.wait_for(3, timeout=BOUND)))
    versions = [orjson.loads(request.body)["data"]["version"] for request in receiver.requests]
    assert versions == [1, 2, 3]
