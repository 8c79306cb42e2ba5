"""Pended requests are followed up by the worker until the payer decides; nothing is lost."""

from __future__ import annotations

import itertools
from datetime import timedelta

import httpx
import orjson
import respx
from sqlalchemy import select

from app.domain.codes import ReviewAction
from app.domain.model import ItemDecision
from app.runtime import Runtime
from app.store.models import Authorization, Event, Job
from tests.support.bundles import pas_request
from tests.support.clock import MovableClock
from tests.support.pas import review_actions
from tests.support.payer_answers import claim_response_bundle
from tests.support.use_cases import PAYER, approved_answer, run_due, submit_directly


async def _state(runtime: Runtime) -> tuple[str, list[str], Job]:
    async with runtime.sessions() as session:
        status = (await session.execute(select(Authorization.status))).scalar_one()
        events = list((await session.execute(select(Event.type).order_by(Event.id))).scalars())
        job = (await session.execute(select(Job).where(Job.kind == "authorization.follow_up"))).scalar_one()
    return status, events, job


async def test_sandbox_pend_is_decided_by_the_worker_after_its_delay(runtime: Runtime, clock: MovableClock) -> None:
    body = await submit_directly(runtime, pas_request("E0470"))
    assert review_actions(body) == {1: "A4"}
    status, _, job = await _state(runtime)
    assert status == "pended"
    clock.advance(job.run_at - clock.now)
    assert await run_due(runtime, clock) == 1
    status, events, job = await _state(runtime)
    if status == "pended":  # the sandbox's own delay had not passed yet: the job was rescheduled
        clock.advance(job.run_at - clock.now)
        await run_due(runtime, clock)
        status, events, job = await _state(runtime)
    assert status == "approved"
    assert job.state == "done"
    assert events[0] == "received"
    assert events[-1] == "payer-answered"
    async with runtime.sessions() as session:
        document = (await session.execute(select(Authorization.response_document))).scalar_one()
    assert document is not None
    assert review_actions(orjson.loads(document)) == {1: "A1"}


def _pended(reference: str = "PAYER-REF-1") -> httpx.Response:
    return httpx.Response(
        200,
        content=claim_response_bundle((ItemDecision(1, ReviewAction.PENDED),), identifier=reference),
        headers={"content-type": "application/fhir+json"},
    )


async def test_pended_three_times_then_approved_is_followed_to_the_decision(
    fhir_pas_runtime: Runtime, clock: MovableClock
) -> None:
    runtime = fhir_pas_runtime
    with respx.mock(assert_all_called=True) as payer:
        payer.post(f"{PAYER}/Claim/$submit").mock(return_value=_pended())
        inquire = payer.post(f"{PAYER}/Claim/$inquire").mock(side_effect=[_pended(), _pended(), approved_answer()])
        body = await submit_directly(runtime, pas_request("99212"))
        assert review_actions(body) == {1: "A4"}
        run_times = []
        for _ in range(3):
            _, _, job = await _state(runtime)
            run_times.append(job.run_at)
            clock.advance(job.run_at - clock.now)
            assert await run_due(runtime, clock) == 1
        status, events, job = await _state(runtime)
    assert inquire.call_count == 3
    assert status == "approved"
    assert job.state == "done"
    assert events.count("payer-answered") == 4
    # each follow-up waited the default interval after the previous answer
    gaps = [later - earlier for earlier, later in itertools.pairwise(run_times)]
    assert gaps == [timedelta(minutes=5), timedelta(minutes=5)]


async def test_payer_down_at_first_still_ends_in_a_decision(fhir_pas_runtime: Runtime, clock: MovableClock) -> None:
    runtime = fhir_pas_runtime
    with respx.mock() as payer:
        submit = payer.post(f"{PAYER}/Claim/$submit").mock(
            side_effect=[httpx.ConnectError("down")] * 3 + [httpx.Response(503)] + [approved_answer()]
        )
        body = await submit_directly(runtime, pas_request("99212"))
        assert review_actions(body) == {1: "A4"}
        for _ in range(6):
            status, _, job = await _state(runtime)
            if status == "approved":
                break
            clock.advance(max(job.run_at - clock.now, timedelta(0)))
            await run_due(runtime, clock)
        status, events, job = await _state(runtime)
    assert status == "approved"
    assert submit.call_count >= 2
    assert job.state == "done"
    assert "payer-unreachable" in events


async def test_cancel_while_the_payer_is_down_reaches_the_payer_later(
    fhir_pas_runtime: Runtime, clock: MovableClock
) -> None:
    runtime = fhir_pas_runtime
    with respx.mock() as payer:
        payer.post(f"{PAYER}/Claim/$submit").mock(
            side_effect=[approved_answer()] + [httpx.ConnectError("down")] * 3 + [approved_answer()] * 5
        )
        assert review_actions(await submit_directly(runtime, pas_request("99212", tag="c1"))) == {1: "A1"}
        cancel = pas_request("99212", tag="c2")
        claim = cancel["entry"][0]["resource"]
        claim.pop("item")
        claim["identifier"][0]["value"] = "CLAIM-c1"
        claim["extension"].append(
            {
                "url": "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-certificationType",
                "valueCodeableConcept": {"coding": [{"system": "https://codesystem.x12.org/005010/1322", "code": "3"}]},
            }
        )
        await submit_directly(runtime, cancel)
        async with runtime.sessions() as session:
            statuses = list(
                (
                    await session.execute(select(Authorization.status).order_by(Authorization.replaces_id.is_not(None)))
                ).scalars()
            )
            job = (
                await session.execute(select(Job).where(Job.kind == "authorization.follow_up", Job.state == "queued"))
            ).scalar_one()
        assert statuses == ["approved", "cancelled"]
        assert job.payload == {"action": "cancel"}
        clock.advance(job.run_at - clock.now)
        await run_due(runtime, clock)
        async with runtime.sessions() as session:
            events = list((await session.execute(select(Event.type))).scalars())
        assert "payer-notified-of-cancel" in events
        assert (
            payer.calls.call_count == 5
        )  # submit, the cancel tried 3 times (adapter retries), the one that got through
