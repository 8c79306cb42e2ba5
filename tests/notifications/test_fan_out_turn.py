"""An event's fan-out takes its turn and wakes the next one in one step (`repository.ordering.take_fan_out_turn`,
one statement on PostgreSQL): a fan-out behind an earlier pending one wakes nobody; one whose turn it is wakes
the next fan-out of its authorization, and only that one."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from app.jobs import repository as jobs
from app.notifications.events import FAN_OUT
from app.notifications.repository.ordering import take_fan_out_turn
from app.runtime import Runtime
from app.store.models import Job


async def _three_fan_outs(runtime: Runtime) -> tuple[list[int], uuid.UUID, datetime]:
    """Three queued fan-outs of one authorization, the later two held for an hour; their ids, the
    authorization, and the time."""
    now = datetime.now(UTC)
    authorization_id = uuid.uuid4()
    async with runtime.sessions.begin() as session:
        rows = [
            jobs.enqueue(
                session,
                FAN_OUT,
                {},
                authorization_id=authorization_id,
                client_id="development",
                now=now,
                run_at=now if index == 0 else now + timedelta(hours=1),
            )
            for index in range(3)
        ]
        await session.flush()
        return [row.id for row in rows], authorization_id, now


async def _run_at(runtime: Runtime, job_ids: list[int]) -> list[datetime]:
    async with runtime.sessions() as session:
        found = [await session.get(Job, job_id) for job_id in job_ids]
        return [job.run_at for job in found if job is not None]


async def test_a_fan_out_behind_an_earlier_pending_one_wakes_nobody(runtime: Runtime) -> None:
    (_first, second, third), authorization_id, now = await _three_fan_outs(runtime)
    async with runtime.sessions.begin() as session:
        turn = await take_fan_out_turn(session, authorization_id, second, now=now)
    assert not turn
    assert all(run_at > now + timedelta(minutes=59) for run_at in await _run_at(runtime, [second, third]))


async def test_a_fan_out_whose_turn_it_is_wakes_the_next_one_only(runtime: Runtime) -> None:
    (first, second, third), authorization_id, now = await _three_fan_outs(runtime)
    async with runtime.sessions.begin() as session:
        turn = await take_fan_out_turn(session, authorization_id, first, now=now)
    assert turn
    woken, held = await _run_at(runtime, [second, third])
    assert woken <= now + timedelta(seconds=1)
    assert held > now + timedelta(minutes=59)
