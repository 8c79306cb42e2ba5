"""A settled delivery's outcome is written whole (`repository.outcome.write_settled`: one statement after the
ordering lock on PostgreSQL): the row updated, its attempt stored, its job completed and the next pending
sibling's job woken, together or not at all; and a worker run of a delivered webhook ends with those writes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, update

from app.jobs import repository as jobs
from app.jobs.contract import JobContext
from app.jobs.loop import Worker
from app.notifications.deliveries import add_delivery
from app.notifications.events import WEBHOOK_DELIVER
from app.notifications.outbound import AttemptResult
from app.notifications.repository.outcome import Settled, write_settled
from app.notifications.states import DELIVERED, PENDING
from app.runtime import Runtime
from app.store.models import Job, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from app.worker import default_handlers
from tests.support.receiver import Received, running_receiver

WORKER = "worker-1"


async def _two_deliveries(client: httpx.AsyncClient, runtime: Runtime, url: str) -> tuple[int, int, datetime]:
    """An earlier delivery whose job WORKER holds, and a later one to the same endpoint and authorization
    whose job is held for an hour (it waits for the earlier one); their ids and the time."""
    response = await client.post("/webhooks", json={"url": url, "event_types": ["*"]})
    assert response.status_code == 201
    now = datetime.now(UTC)
    authorization_id = uuid.uuid4()
    async with runtime.sessions.begin() as session:
        endpoint = await session.get(WebhookEndpoint, uuid.UUID(response.json()["id"]))
        assert endpoint is not None
        rows = [
            await add_delivery(
                session,
                endpoint,
                event_type="authorization.approved",
                occurred_at=now,
                data={"n": seq},
                authorization_id=authorization_id,
                now=now,
                event_seq=seq,
            )
            for seq in (1, 2)
        ]
        earlier, later = rows
        await session.execute(
            update(Job)
            .where(Job.id == earlier.job_id)
            .values(
                state=jobs.JobState.RUNNING.value, attempts=1, locked_by=WORKER, lease_until=now + timedelta(minutes=1)
            )
        )
        await session.execute(update(Job).where(Job.id == later.job_id).values(run_at=now + timedelta(hours=1)))
        return earlier.id, later.id, now


async def _settle(runtime: Runtime, delivery_id: int, now: datetime, *, worker: str, commit: bool) -> Settled:
    async with runtime.sessions() as session:
        row = await session.get(WebhookDelivery, delivery_id)
        assert row is not None
        assert row.job_id is not None
        row.state, row.attempts, row.last_status_code, row.delivered_at, row.next_attempt_at = (
            DELIVERED, 1, 204, now, None
        )  # fmt: skip
        settled = await write_settled(
            session, row, AttemptResult(204, 12), started=now, at=now,
            completion=jobs.completion_values(row.job_id, worker, now),
        )  # fmt: skip
        await (session.commit() if commit else session.rollback())
        return settled


async def _state(runtime: Runtime, earlier: int, later: int) -> tuple[str, int, str, datetime, int]:
    async with runtime.sessions() as session:
        first = await session.get(WebhookDelivery, earlier)
        second = await session.get(WebhookDelivery, later)
        assert first is not None
        assert second is not None
        first_job, second_job = await session.get(Job, first.job_id), await session.get(Job, second.job_id)
        assert first_job is not None
        assert second_job is not None
        attempts = (await session.scalars(select(WebhookAttempt).where(WebhookAttempt.delivery_id == earlier))).all()
        return first.state, first.attempts, first_job.state, second_job.run_at, len(attempts)


@pytest.mark.parametrize("commit", [True, False], ids=["committed", "rolled-back"])
async def test_a_settled_delivery_stores_its_row_attempt_completion_and_wakes_the_next_sibling_all_or_nothing(
    client: httpx.AsyncClient, runtime: Runtime, commit: bool
) -> None:
    earlier, later, now = await _two_deliveries(client, runtime, "http://127.0.0.1:9/hook")

    settled = await _settle(runtime, earlier, now, worker=WORKER, commit=commit)

    assert settled == Settled(completed=True, woken=True)
    state, attempts, job_state, woken_at, stored_attempts = await _state(runtime, earlier, later)
    if commit:
        assert (state, attempts, job_state, stored_attempts) == (DELIVERED, 1, jobs.JobState.DONE.value, 1)
        assert woken_at <= now + timedelta(seconds=1)
    else:
        assert (state, attempts, job_state, stored_attempts) == (PENDING, 0, jobs.JobState.RUNNING.value, 0)
        assert woken_at > now + timedelta(minutes=59)


async def test_a_settled_delivery_whose_lease_was_lost_says_so(client: httpx.AsyncClient, runtime: Runtime) -> None:
    earlier, later, now = await _two_deliveries(client, runtime, "http://127.0.0.1:9/hook")

    settled = await _settle(runtime, earlier, now, worker="another-worker", commit=False)

    assert settled == Settled(completed=False, woken=True)  # the worker rolls back on `completed=False`
    assert (await _state(runtime, earlier, later))[:3] == (PENDING, 0, jobs.JobState.RUNNING.value)


async def test_a_worker_delivering_a_webhook_completes_its_job_and_wakes_the_one_behind_in_the_same_commit(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    async def ok(_request: Received) -> tuple[int, dict[str, str]]:
        return 204, {}

    async with running_receiver(ok) as receiver:
        earlier, later, now = await _two_deliveries(client, runtime, receiver.url)
        async with runtime.sessions.begin() as session:  # back to queued: the worker claims it
            await session.execute(
                update(Job)
                .where(Job.kind == WEBHOOK_DELIVER, Job.state == jobs.JobState.RUNNING.value)
                .values(state=jobs.JobState.QUEUED.value, attempts=0, locked_by=None, lease_until=None, run_at=now)
            )
        handler = default_handlers(runtime)[WEBHOOK_DELIVER]
        outcomes: list[object] = []

        async def observed(job: JobContext) -> object:
            outcome = await handler(job)
            outcomes.append(outcome)
            return outcome

        worker = Worker(runtime.sessions, {WEBHOOK_DELIVER: observed}, batch_size=1, concurrency=1)  # type: ignore[dict-item]
        assert await worker.run_once() == 1

    state, attempts, job_state, woken_at, stored_attempts = await _state(runtime, earlier, later)
    assert (state, attempts, job_state, stored_attempts) == (DELIVERED, 1, jobs.JobState.DONE.value, 1)
    assert woken_at <= datetime.now(UTC)
    assert [type(outcome).__name__ for outcome in outcomes] == ["Completed"]
