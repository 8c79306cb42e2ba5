"""Decision clocks and approval expiry fire at the right moments (time is moved, never slept)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.notifications.events import FAN_OUT
from app.runtime import Runtime
from app.store.models import Authorization, Event, Job
from tests.support.bundles import pas_request
from tests.support.clock import MovableClock
from tests.support.use_cases import run_due, submit_directly


async def _events(runtime: Runtime) -> list[str]:
    async with runtime.sessions() as session:
        return list((await session.execute(select(Event.type).order_by(Event.id))).scalars())


async def _published(runtime: Runtime) -> list[str]:
    """Event types handed to the notification fan-out, in order."""
    async with runtime.sessions() as session:
        payloads = (await session.execute(select(Job.payload).where(Job.kind == FAN_OUT).order_by(Job.id))).scalars()
        return [payload["event_type"] for payload in payloads]


async def _authorization(runtime: Runtime) -> Authorization:
    async with runtime.sessions() as session:
        return (await session.execute(select(Authorization))).scalar_one()


async def _run_until(runtime: Runtime, clock: MovableClock, moment: timedelta) -> None:
    """Move the clock to `moment` after the start, letting the worker run whatever falls due on the way."""
    target = clock.now + moment
    while clock.now < target:
        clock.advance(min(timedelta(hours=6), target - clock.now))
        while await run_due(runtime, clock):
            pass


async def test_standard_request_is_overdue_after_seven_days_not_before(runtime: Runtime, clock: MovableClock) -> None:
    await submit_directly(runtime, pas_request("99212", member="SBX-HOLD"))  # the sandbox holds it until released
    received = (await _authorization(runtime)).received_at
    await _run_until(runtime, clock, timedelta(days=7) - timedelta(seconds=1))
    assert "overdue" not in await _events(runtime)
    await _run_until(runtime, clock, timedelta(seconds=1))
    assert (await _events(runtime)).count("overdue") == 1
    assert "authorization.overdue" in await _published(runtime)
    authorization = await _authorization(runtime)
    assert authorization.due_at == received + timedelta(days=7)
    assert authorization.status == "pended"


async def test_expedited_request_is_due_in_72_hours(runtime: Runtime, clock: MovableClock) -> None:
    bundle = pas_request("99212", member="SBX-HOLD")
    bundle["entry"][0]["resource"]["priority"] = {
        "coding": [{"system": "http://terminology.hl7.org/CodeSystem/processpriority", "code": "stat"}]
    }
    await submit_directly(runtime, bundle)
    authorization = await _authorization(runtime)
    assert authorization.priority == "expedited"
    assert authorization.due_at == authorization.received_at + timedelta(hours=72)
    await _run_until(runtime, clock, timedelta(hours=72))
    assert "overdue" in await _events(runtime)


async def test_approval_warns_before_it_expires_then_expires(runtime: Runtime, clock: MovableClock) -> None:
    await submit_directly(runtime, pas_request("99212"))
    authorization = await _authorization(runtime)
    assert authorization.status == "approved"
    assert authorization.expires_at is not None
    until_expiry = authorization.expires_at - clock.now
    await _run_until(runtime, clock, until_expiry - timedelta(days=14) - timedelta(hours=1))
    assert "expiring" not in await _events(runtime)
    await _run_until(runtime, clock, timedelta(hours=2))
    assert "expiring" in await _events(runtime)
    assert (await _authorization(runtime)).status == "approved"
    await _run_until(runtime, clock, timedelta(days=14))
    assert (await _authorization(runtime)).status == "expired"
    assert (await _events(runtime))[-1] == "expired"
    published = await _published(runtime)
    assert published.index("authorization.expiring") < published.index("authorization.expired")
