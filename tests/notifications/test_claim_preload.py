"""A claimed delivery is read by the claim that leases it (`webhook_jobs.preload_deliveries`): its first run
makes no look-up of its own, each job of a batch gets its own endpoint, and the claim's read of the
ordering check still holds a delivery behind an earlier pending one to its endpoint."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select, update

from app.jobs.contract import ClaimedJob, Handler, JobContext
from app.jobs.loop import Worker
from app.notifications import enqueue_event
from app.notifications.events import FAN_OUT, WEBHOOK_DELIVER
from app.notifications.webhook_jobs import Preloaded
from app.runtime import Runtime
from app.store.models import Job, WebhookDelivery, WebhookEndpoint
from app.worker import default_handlers
from tests.support.receiver import Received, running_receiver
from tests.support.rows import add_authorizations


class RecordingWorker(Worker):
    claimed: list[ClaimedJob]

    async def _claim(self, limit: int) -> tuple[list[ClaimedJob], datetime | None]:
        jobs, next_at = await super()._claim(limit)
        self.claimed += jobs
        return jobs, next_at


def _recording(runtime: Runtime, handlers: dict[str, Handler] | None = None) -> RecordingWorker:
    worker = RecordingWorker(runtime.sessions, handlers or default_handlers(runtime), batch_size=10, concurrency=10)
    worker.claimed = []
    return worker


async def _publish(runtime: Runtime, *, authorizations: int, events: int) -> None:
    now = datetime.now(UTC)
    async with runtime.sessions.begin() as session:
        for authorization in await add_authorizations(session, "development", now, authorizations):
            for _ in range(events):
                enqueue_event(session, authorization, "authorization.approved", now=now)


async def _fan_out_only(runtime: Runtime) -> None:
    """Run the fan-outs; the deliveries' jobs end without sending (the rows stay pending, the holds kept)."""

    async def not_sent(_job: JobContext) -> None:
        return None

    worker = Worker(runtime.sessions, {FAN_OUT: default_handlers(runtime)[FAN_OUT], WEBHOOK_DELIVER: not_sent})
    while await worker.run_once():
        pass


async def test_a_batch_of_claimed_deliveries_is_read_by_the_claim_each_with_its_own_endpoint(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    async def gone(_request: Received) -> tuple[int, dict[str, str]]:
        return 410, {}

    async with running_receiver(gone) as receiver:
        response = await client.post("/webhooks", json={"url": receiver.url, "event_types": ["*"]})
        assert response.status_code == 201, response.text
        await _publish(runtime, authorizations=2, events=1)  # two deliveries to one endpoint, not ordered
        worker = _recording(runtime)
        assert await worker.run_once() == 2  # the fan-outs (run_once hands nothing over)
        assert await worker.run_once() == 2  # both deliveries, in one claim
        assert len(receiver.requests) == 2
    deliveries = [job for job in worker.claimed if job.kind == WEBHOOK_DELIVER]
    assert len(deliveries) == 2
    loaded = [job.preloaded for job in deliveries if isinstance(job.preloaded, Preloaded)]
    assert [p.row.id for p in loaded] == [job.payload["delivery_id"] for job in deliveries]
    first, second = (p.endpoint for p in loaded)
    assert first is not None
    assert second is not None
    assert first is not second  # each job's session takes its own
    assert first.id == second.id
    async with runtime.sessions() as session:
        rows = (await session.scalars(select(WebhookDelivery))).all()
        endpoint = (await session.scalars(select(WebhookEndpoint))).one()
    assert sorted((row.state, row.attempts) for row in rows) == [("failed", 1)] * 2
    assert endpoint.enabled is False  # the 410 disabled it through the endpoint the claim read


async def test_a_claimed_delivery_behind_a_pending_one_still_waits(client: httpx.AsyncClient, runtime: Runtime) -> None:
    response = await client.post("/webhooks", json={"url": "http://127.0.0.1:9/hook", "event_types": ["*"]})
    assert response.status_code == 201, response.text
    await _publish(runtime, authorizations=1, events=2)
    await _fan_out_only(runtime)
    async with runtime.sessions.begin() as session:
        first, second = (
            await session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.event_seq, WebhookDelivery.id))
        ).all()
        assert (first.state, second.state) == ("pending", "pending")
        # the second's hold ran out while the first is still pending (its worker died, say)
        await session.execute(update(Job).where(Job.id == second.job_id).values(run_at=datetime.now(UTC)))
    worker = _recording(runtime)
    assert await worker.run_once() == 1
    [claimed] = worker.claimed
    assert isinstance(claimed.preloaded, Preloaded)
    assert claimed.preloaded.behind == (False, True)
    async with runtime.sessions() as session:
        row = await session.get(WebhookDelivery, second.id)
        job = await session.get(Job, second.job_id)
    assert row is not None
    assert job is not None
    assert (row.state, row.attempts) == ("pending", 0)  # not sent
    assert job.state == "queued"
    assert job.run_at > datetime.now(UTC) + timedelta(seconds=1)  # held again
