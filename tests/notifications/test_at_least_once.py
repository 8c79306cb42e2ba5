"""At least once, nothing lost: a flaky receiver gets all 1,000 events; duplicates share their webhook-id."""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict

import httpx
import orjson

from app.notifications import enqueue_event
from app.runtime import Runtime
from tests.support.receiver import Received, running_receiver
from tests.support.rows import add_authorizations
from tests.support.worker import drain

AUTHORIZATIONS = 50
EVENTS_EACH = 20  # 1,000 events


async def test_flaky_receiver_gets_every_event_at_least_once_in_order(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    object.__setattr__(runtime.settings, "webhook_timeout_seconds", 0.1)
    object.__setattr__(runtime.settings, "webhook_retry_schedule", [0.02] * 15)
    rng = random.Random(20261127)

    async def flaky(_request: Received) -> tuple[int, dict[str, str]]:
        roll = rng.random()
        if roll < 0.05:
            await asyncio.sleep(0.2)  # the sender times out, though the request arrived
            return 200, {}
        if roll < 0.35:
            return 500, {}
        return 200, {}

    async with running_receiver(flaky) as receiver:
        response = await client.post("/webhooks", json={"url": receiver.url, "event_types": ["*"]})
        assert response.status_code == 201
        now = runtime.clock()
        async with runtime.sessions.begin() as session:
            rows = await add_authorizations(session, "development", now, AUTHORIZATIONS)
            for version in range(1, EVENTS_EACH + 1):
                for row in rows:
                    row.version = version
                    enqueue_event(session, row, "authorization.pended", now=now)
        # SQLite serializes writers: a few at a time beat many waiting on its lock
        # the deadline is a bound, not a speed check (bench/webhooks.py measures speed)
        await drain(runtime, concurrency=8 if runtime.settings.is_sqlite else 16, deadline=300)
        requests = list(receiver.requests)

    by_id: dict[str, set[bytes]] = defaultdict(set)
    first_arrival: dict[str, list[int]] = defaultdict(list)
    seen: set[tuple[str, int]] = set()
    for request in requests:
        by_id[request.headers["webhook-id"]].add(request.body)
        data = orjson.loads(request.body)["data"]
        event = (data["authorization_id"], data["version"])
        if event not in seen:
            seen.add(event)
            first_arrival[data["authorization_id"]].append(data["version"])
    assert len(seen) == AUTHORIZATIONS * EVENTS_EACH
    assert len(by_id) == AUTHORIZATIONS * EVENTS_EACH  # one webhook-id per event ...
    assert all(len(bodies) == 1 for bodies in by_id.values())  # ... the same message on every attempt
    assert len(requests) > len(by_id)  # the receiver's failures did cause retries
    assert all(versions == list(range(1, EVENTS_EACH + 1)) for versions in first_arrival.values())
