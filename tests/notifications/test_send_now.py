"""Push it now (issue 26, point 5): a pending delivery is sent now, a fixed receiver drains at once
instead of waiting for its backoff, a queued job runs now; each action is audited with who did it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.jobs.repository import enqueue
from app.runtime import Runtime
from app.settings import Settings
from app.store.models import AuditRecord, Job
from tests.support.bundles import pas_request
from tests.support.pas import submit
from tests.support.receiver import Received, running_receiver
from tests.support.worker import drain

DEV = "development"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """A receiver that failed waits an hour before the next attempt: only "send now" brings it sooner."""
    return Settings(
        database_url=database_url,
        development=True,
        data_dir=tmp_path,
        embedded_worker=False,
        webhook_allow_private_targets=True,
        webhook_timeout_seconds=2.0,
        webhook_retry_schedule=[3600, 3600],
        _env_file=None,
    )


async def _audited(runtime: Runtime, operation: str) -> list[tuple[str, list[str]]]:
    async with runtime.sessions() as session:
        rows = (await session.execute(select(AuditRecord).where(AuditRecord.operation == operation))).scalars()
        return [(row.client_id, list(row.resource_ids)) for row in rows]


async def test_a_fixed_receiver_drains_now_and_one_pending_delivery_can_be_sent_now(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    receiver_up = {"up": False}

    async def down_then_fixed(_request: Received) -> tuple[int, dict[str, str]]:
        return (204, {}) if receiver_up["up"] else (500, {})

    async with running_receiver(down_then_fixed) as receiver:
        registered = await client.post("/webhooks", json={"url": receiver.url, "event_types": ["*"]})
        endpoint: dict[str, Any] = registered.json()
        await submit(client, pas_request("99212"))
        await drain(runtime)  # the first attempt of the first event fails; the next one is an hour away
        log = (await client.get(f"/webhooks/{endpoint['id']}/deliveries")).json()["deliveries"]
        assert {d["state"] for d in log} == {"pending"}
        failed = len(receiver.requests)
        assert failed >= 1

        receiver_up["up"] = True
        first = next(d["id"] for d in log if d["attempts"] >= 1)  # the one that failed (others wait behind it)
        one = await client.post(f"/webhooks/deliveries/{first}/send-now")
        assert one.status_code == 202, one.text
        await drain(runtime)
        assert len(receiver.requests) > failed  # sent without waiting the hour

        drained = await client.post(f"/webhooks/{endpoint['id']}/send-pending-now")
        assert drained.status_code == 202
        await drain(runtime)

        log = (await client.get(f"/webhooks/{endpoint['id']}/deliveries")).json()["deliveries"]
        assert {d["state"] for d in log} == {"delivered"}
        again = await client.post(f"/webhooks/deliveries/{first}/send-now")
    assert again.status_code == 409  # delivered: redeliver it instead
    assert "redeliver" in again.json()["detail"]
    assert await _audited(runtime, "webhook.delivery.send-now") == [(DEV, [str(first)]), (DEV, [str(first)])]
    assert await _audited(runtime, "webhook.endpoint.send-pending-now") == [(DEV, [endpoint["id"]])]


async def test_a_queued_job_runs_now_and_a_dead_one_is_refused(client: httpx.AsyncClient, runtime: Runtime) -> None:
    now = runtime.clock()
    later = now + timedelta(days=365)
    async with runtime.sessions() as session:
        queued = enqueue(session, "noop", {}, now=now, run_at=later, client_id=DEV)
        dead = enqueue(session, "noop", {}, now=now, run_at=later, client_id=DEV)
        await session.flush()
        queued.attempts, dead.state = 2, "dead"
        await session.commit()

    ran = await client.post(f"/jobs/{queued.id}/run-now")
    refused = await client.post(f"/jobs/{dead.id}/run-now")
    missing = await client.post("/jobs/999999999/run-now")

    assert ran.status_code == 200, ran.text
    assert ran.json()["state"] == "queued"
    assert ran.json()["attempts"] == 2  # attempts kept: only the wait is skipped
    async with runtime.sessions() as session:
        job = await session.get(Job, queued.id)
        assert job is not None
        assert job.run_at <= runtime.clock()
    assert refused.status_code == 409
    assert "retry it instead" in refused.json()["detail"]
    assert missing.status_code == 404
    assert await _audited(runtime, "job.run-now") == [
        (DEV, [str(queued.id)]),
        (DEV, [str(dead.id)]),
        (DEV, ["999999999"]),
    ]
