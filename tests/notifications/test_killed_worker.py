"""A worker killed after the receiver got a delivery but before recording it: redelivered, not lost."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

import httpx
from sqlalchemy import select

from app.runtime import Runtime
from app.store.models import WebhookAttempt, WebhookDelivery
from tests.support.processes import epa_env
from tests.support.receiver import Received, running_receiver
from tests.support.worker import drain


async def test_killed_worker_means_redelivery_with_the_same_webhook_id(
    client: httpx.AsyncClient, runtime: Runtime, database_url: str
) -> None:
    release = asyncio.Event()

    async def blocks_first(request: Received) -> tuple[int, dict[str, str]]:
        if len(receiver.requests) == 1:
            await release.wait()  # hold the first request until its sender is dead
        return 200, {}

    async with running_receiver(blocks_first) as receiver:
        endpoint = (await client.post("/webhooks", json={"url": receiver.url, "event_types": ["*"]})).json()
        assert (await client.post(f"/webhooks/{endpoint['id']}/ping")).status_code == 202
        env = epa_env(
            {
                "EPA_DATABASE_URL": database_url,
                "EPA_DEVELOPMENT": "true",
                "EPA_WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
                "EPA_WORKER_LEASE_SECONDS": "1",
                "EPA_WORKER_POLL_SECONDS": "0.1",
            }
        )
        worker = subprocess.Popen(
            [sys.executable, "-m", "app", "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            await receiver.wait_for(1, timeout=20)
        finally:
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
        release.set()
        async with runtime.sessions() as session:
            delivery = (await session.scalars(select(WebhookDelivery))).one()
            assert (delivery.state, delivery.attempts) == ("pending", 0)  # sent, but never recorded
        await asyncio.sleep(1.2)  # the dead worker's lease expires
        await drain(runtime)
        await receiver.wait_for(2)
        first, second = receiver.requests[:2]
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body
    async with runtime.sessions() as session:
        delivery = (await session.scalars(select(WebhookDelivery))).one()
        attempts = (await session.scalars(select(WebhookAttempt))).all()
    assert (delivery.state, delivery.attempts, len(attempts)) == ("delivered", 1, 1)
