"""An event's fan-out writes its webhook deliveries as a batch: the statements do not grow with the
number of endpoints, and a delivery behind an earlier pending one to its endpoint is still held."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from sqlalchemy import event, select

from app.jobs.contract import Handler, JobContext
from app.jobs.loop import Worker
from app.notifications import enqueue_event
from app.notifications.events import FAN_OUT, WEBHOOK_DELIVER
from app.runtime import Runtime
from app.store.models import Job, WebhookDelivery
from app.worker import default_handlers
from tests.support.rows import add_authorizations


async def _register(client: httpx.AsyncClient, count: int) -> None:
    for index in range(count):
        response = await client.post("/webhooks", json={"url": f"http://127.0.0.1:9/{index}", "event_types": ["*"]})
        assert response.status_code == 201, response.text


async def _fan_out_statements(runtime: Runtime, events: int = 1) -> list[int]:
    """Publish `events` events for one authorization, run their fan-outs one at a time; statements of each."""
    now = datetime.now(UTC)
    async with runtime.sessions.begin() as session:
        [authorization] = await add_authorizations(session, "development", now, 1)
        for _ in range(events):
            enqueue_event(session, authorization, "authorization.approved", now=now)
    counts: list[int] = []
    handlers = default_handlers(runtime)
    fan_out = handlers[FAN_OUT]

    async def counted(job: JobContext) -> None:
        seen = [0]

        def count(*_args: object) -> None:
            seen[0] += 1

        event.listen(runtime.engine.sync_engine, "before_cursor_execute", count)
        try:
            await fan_out(job)
        finally:
            event.remove(runtime.engine.sync_engine, "before_cursor_execute", count)
        counts.append(seen[0])

    async def not_sent(_job: JobContext) -> None:  # the deliveries stay pending; their jobs keep their times
        return None

    only: dict[str, Handler] = {FAN_OUT: counted, WEBHOOK_DELIVER: not_sent}
    worker = Worker(runtime.sessions, only, batch_size=1, concurrency=1)
    while await worker.run_once():
        pass
    return counts


async def test_an_events_fan_out_takes_as_many_statements_for_one_endpoint_as_for_six(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await _register(client, 1)
    [one] = await _fan_out_statements(runtime)
    await _register(client, 5)
    [six] = await _fan_out_statements(runtime)
    assert six == one
    async with runtime.sessions() as session:
        rows = (await session.execute(select(WebhookDelivery.id, WebhookDelivery.job_id))).all()
        jobs = {job.id: job for job in (await session.scalars(select(Job).where(Job.kind == WEBHOOK_DELIVER)))}
    assert len(rows) == 7
    assert all(job_id is not None and jobs[job_id].payload == {"delivery_id": d} for d, job_id in rows)


async def test_a_second_events_deliveries_wait_behind_the_first_ones_still_pending(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await _register(client, 3)
    await _fan_out_statements(runtime, events=2)
    async with runtime.sessions() as session:
        rows = (
            await session.execute(
                select(WebhookDelivery.event_seq, Job.run_at, Job.created_at)
                .join(Job, Job.id == WebhookDelivery.job_id)
                .order_by(WebhookDelivery.event_seq, WebhookDelivery.id)
            )
        ).all()
    first, second = rows[:3], rows[3:]
    assert all(run_at == created for _seq, run_at, created in first)  # due at once
    assert all(run_at > created for _seq, run_at, created in second)  # held until the one ahead wakes it
