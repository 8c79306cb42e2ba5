"""Retention: the pruning job removes only what is past its period, reschedules itself, and never doubles."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from app.jobs.loop import Worker
from app.jobs.repository import JobState, enqueue
from app.maintenance.retention import PRUNE, RetentionPolicy, ensure_prune_job, prune
from app.runtime import Runtime
from app.store.models import AuditRecord, Job, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from app.worker import default_handlers
from tests.support.clock import MovableClock
from tests.support.processes import run_epa

POLICY = RetentionPolicy(
    jobs=timedelta(days=14), deliveries=timedelta(days=30), audit=timedelta(days=2190), interval=timedelta(hours=6)
)


async def _seed(runtime: Runtime, clock: MovableClock) -> None:
    now = clock.now
    async with runtime.sessions() as session:
        for age, state in ((20, "done"), (3, "done"), (40, "dead"), (40, "queued")):
            job = enqueue(session, "noop", {}, now=now - timedelta(days=age), run_at=now + timedelta(days=1))
            job.state = state
        endpoint = WebhookEndpoint(
            client_id="c",
            url="https://e.example/h",
            event_types=["*"],
            secret="whsec_x",
            created_at=now,
            updated_at=now,
        )
        session.add(endpoint)
        await session.flush()
        for age, state in ((45, "delivered"), (10, "delivered"), (45, "failed")):
            at = now - timedelta(days=age)
            delivery = WebhookDelivery(
                endpoint_id=endpoint.id,
                client_id="c",
                message_id=f"msg_{uuid.uuid4().hex}",
                event_type="authorization.approved",
                payload={},
                occurred_at=at,
                state=state,
                attempts=1,
                created_at=at,
                delivered_at=at if state == "delivered" else None,
            )
            session.add(delivery)
            await session.flush()
            session.add(WebhookAttempt(delivery_id=delivery.id, at=at, status_code=200, latency_ms=5))
        for age in (2200, 400):
            session.add(
                AuditRecord(
                    at=now - timedelta(days=age), client_id="c", operation="claim.submit", resource_ids=[], outcome=200
                )
            )
        await session.commit()


async def _count(runtime: Runtime, model: object, *where: object) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)  # type: ignore[arg-type]


async def test_prune_removes_only_rows_past_their_period(runtime: Runtime, clock: MovableClock) -> None:
    await _seed(runtime, clock)
    async with runtime.sessions() as session:
        removed = await prune(session, POLICY, now=clock.now)
        await session.commit()
    assert removed == {
        "jobs": 1,
        "webhook_deliveries": 1,
        "subscription_notifications": 0,
        "audit_records": 1,
        "questionnaire_errors": 0,
    }
    assert await _count(runtime, Job) == 3  # the recent done job, the dead one, the queued one
    assert await _count(runtime, Job, Job.state == "dead") == 1
    assert await _count(runtime, WebhookDelivery) == 2  # the recent delivery and the failed one
    assert await _count(runtime, WebhookAttempt) == 2
    assert await _count(runtime, AuditRecord) == 1


async def test_the_job_runs_prunes_and_reschedules_itself_and_a_twin_ends(
    runtime: Runtime, clock: MovableClock
) -> None:
    await _seed(runtime, clock)
    async with runtime.sessions() as session:
        assert await ensure_prune_job(session, now=clock.now) is True
        assert await ensure_prune_job(session, now=clock.now) is False  # one is queued already
        twin = enqueue(session, PRUNE, {}, now=clock.now)  # as if a second worker raced the first
        await session.commit()
        twin_id = twin.id
    await Worker(runtime.sessions, default_handlers(runtime), clock=clock).run_once()
    assert await _count(runtime, AuditRecord) == 1
    async with runtime.sessions() as session:
        jobs = {job.id: job for job in (await session.scalars(select(Job).where(Job.kind == PRUNE))).all()}
    assert jobs[twin_id].state == JobState.DONE.value
    (survivor,) = [job for job in jobs.values() if job.id != twin_id]
    assert survivor.state == JobState.QUEUED.value
    assert survivor.run_at == clock.now + timedelta(hours=6)


async def test_epa_prune_reports_what_it_deleted(runtime: Runtime, tmp_path: Path) -> None:
    now = datetime.now(UTC)  # the CLI runs on the wall clock
    async with runtime.sessions() as session:
        for age in (20, 3):
            enqueue(session, "noop", {}, now=now - timedelta(days=age)).state = "done"
        await session.commit()
    env = {"EPA_DATABASE_URL": runtime.settings.effective_database_url, "EPA_DATA_DIR": str(tmp_path)}
    result = await asyncio.to_thread(run_epa, "prune", env=env)
    assert result.returncode == 0, result.stderr
    assert "epa: pruned 1 jobs" in result.stderr
    assert "jobs: 1 deleted" in result.stdout
    assert await _count(runtime, Job) == 1
