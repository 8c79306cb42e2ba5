"""Recovery asks before it repeats: timeouts are confirmed by inquiry, an unanswered stored request is
answered pended at once on replay, and the first retry after an outage comes in seconds."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import orjson
import respx
from sqlalchemy import select

from app.authorizations import submit_prior_auth
from app.fhir.submit import parse_submit
from app.runtime import Runtime
from app.security.principal import DEVELOPMENT_PRINCIPAL
from app.store.models import Authorization, Job
from tests.support.bundles import pas_request
from tests.support.clock import MovableClock
from tests.support.pas import review_actions
from tests.support.use_cases import PAYER, approved_answer, run_due, submit_directly

NOT_FOUND = httpx.Response(
    404,
    json={"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "not-found"}]},
    headers={"content-type": "application/fhir+json"},
)


async def _follow_up(runtime: Runtime) -> Job:
    async with runtime.sessions() as session:
        return (await session.execute(select(Job).where(Job.kind == "authorization.follow_up"))).scalar_one()


async def _status(runtime: Runtime) -> str:
    async with runtime.sessions() as session:
        return str((await session.execute(select(Authorization.status))).scalar_one())


class SlowPayer:
    """Answers `answer` after longer than the sync budget; counts the requests that reached it."""

    def __init__(self, answer: httpx.Response) -> None:
        self.answer, self.received = answer, 0

    async def __call__(self, _request: httpx.Request) -> httpx.Response:
        self.received += 1  # the payer has it, though the client stops waiting
        await asyncio.sleep(0.5)
        return self.answer


async def test_a_timed_out_call_is_confirmed_by_inquiry_not_sent_again(
    fhir_pas_runtime: Runtime, clock: MovableClock
) -> None:
    runtime = fhir_pas_runtime
    object.__setattr__(runtime.settings, "payer_sync_budget_seconds", 0.1)
    with respx.mock(assert_all_called=False) as payer:
        slow = SlowPayer(approved_answer())
        payer.post(f"{PAYER}/Claim/$submit").mock(side_effect=slow)
        inquired = payer.post(f"{PAYER}/Claim/$inquire").mock(return_value=approved_answer())
        assert review_actions(await submit_directly(runtime, pas_request("99212"))) == {1: "A4"}
        job = await _follow_up(runtime)
        assert job.payload == {"action": "confirm"}
        assert job.run_at - clock.now == timedelta(seconds=5)
        clock.advance(job.run_at - clock.now)
        await run_due(runtime, clock)
        assert await _status(runtime) == "approved"
        assert (slow.received, inquired.call_count) == (1, 1)


async def test_a_confirmation_the_payer_does_not_recognise_sends_the_request(
    fhir_pas_runtime: Runtime, clock: MovableClock
) -> None:
    runtime = fhir_pas_runtime
    object.__setattr__(runtime.settings, "payer_sync_budget_seconds", 0.1)
    with respx.mock(assert_all_called=False) as payer:
        slow = SlowPayer(NOT_FOUND)

        async def first_slow_then_approved(request: httpx.Request) -> httpx.Response:
            return await slow(request) if slow.received == 0 else approved_answer()

        submitted = payer.post(f"{PAYER}/Claim/$submit").mock(side_effect=first_slow_then_approved)
        inquired = payer.post(f"{PAYER}/Claim/$inquire").mock(return_value=NOT_FOUND)
        await submit_directly(runtime, pas_request("99212"))
        job = await _follow_up(runtime)
        clock.advance(job.run_at - clock.now)
        await run_due(runtime, clock)
        assert await _status(runtime) == "approved"
        assert (slow.received, inquired.call_count, submitted.call_count) == (1, 1, 1)  # + the one cut short


async def test_a_stored_request_without_an_answer_replays_as_pended_at_once(
    fhir_pas_runtime: Runtime, clock: MovableClock
) -> None:
    runtime = fhir_pas_runtime
    called = asyncio.Event()

    async def hangs(_request: httpx.Request) -> httpx.Response:
        called.set()
        await asyncio.sleep(30)
        return approved_answer()

    body = orjson.dumps(pas_request("99212"))
    with respx.mock(assert_all_called=False) as payer:
        payer.post(f"{PAYER}/Claim/$submit").mock(side_effect=hangs)
        first = asyncio.create_task(submit_prior_auth(runtime, DEVELOPMENT_PRINCIPAL, parse_submit(body)))
        await asyncio.wait_for(called.wait(), timeout=10)
        first.cancel()  # the process dies while the payer thinks: stored, never answered
        await asyncio.gather(first, return_exceptions=True)
    assert await _status(runtime) == "received"
    again = await submit_prior_auth(runtime, DEVELOPMENT_PRINCIPAL, parse_submit(body))
    assert (again.status_code, again.replayed) == (200, True)
    assert review_actions(orjson.loads(again.body)) == {1: "A4"}
    assert (await _follow_up(runtime)).payload == {"action": "confirm"}  # the worker asks before resending


async def test_the_first_retry_after_an_outage_comes_in_seconds(fhir_pas_runtime: Runtime, clock: MovableClock) -> None:
    runtime = fhir_pas_runtime
    with respx.mock(assert_all_called=False) as payer:
        payer.post(f"{PAYER}/Claim/$submit").mock(side_effect=httpx.ConnectError("down"))
        assert review_actions(await submit_directly(runtime, pas_request("99212"))) == {1: "A4"}
    job = await _follow_up(runtime)
    assert job.payload == {"action": "submit"}  # unreachable: the payer never had it
    assert job.run_at - clock.now == timedelta(seconds=runtime.settings.payer_retry_first_seconds)
    assert runtime.settings.payer_retry_first_seconds == 5.0
