"""The hub's lifecycle with an x12-278 payer behind the fake clearinghouse, on both backends and both
CORE envelopes: `$submit` (the use case), follow-ups by 278 inquiry on the worker's schedule, updates,
cancels, AAA rejections and rejected interchanges (pended, retried, never lost)."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.api.security import current_principal
from app.payers import PayerRegistry, build_registry
from app.payers.x12_278 import core, create_adapter
from app.payers.x12_278.respond import Script, Scripted
from app.runtime import Runtime, build_runtime
from app.security.principal import Principal
from app.store.models import Job
from tests.authorizations.support import Item, cancel_all_bundle, request_bundle, update_bundle
from tests.payers.x12_278.clearinghouse import Answer, Clearinghouse, running
from tests.support.bundles import pas_request
from tests.support.clock import MovableClock
from tests.support.pas import review_actions
from tests.support.runtime import clock, development_settings
from tests.support.use_cases import run_due, submit_directly

__all__ = ["clock"]


@pytest.fixture(params=["mime", "soap"])
async def house(request: pytest.FixtureRequest) -> AsyncIterator[Clearinghouse]:
    async with running(Clearinghouse(envelope=request.param)) as served:
        yield served


@pytest.fixture
async def x12_runtime(
    database_url: str, tmp_path: Path, engine: AsyncEngine, clock: MovableClock, house: Clearinghouse
) -> AsyncIterator[Runtime]:
    settings = house.settings(follow_up_seconds=300, timeout_seconds=0.5)
    config = {"payer": [{"id": "acme-x12", "adapter": "x12-278", "default": True, "settings": settings}]}
    async with httpx.AsyncClient() as http:
        registry: PayerRegistry = build_registry(config, http, factories={"x12-278": create_adapter}, clock=clock)
        async with build_runtime(development_settings(database_url, tmp_path), payers=registry, clock=clock) as built:
            yield built


async def follow_up_once(runtime: Runtime, clock: MovableClock) -> int:
    """Move the clock to the next queued follow-up and run it; how many were due."""
    async with runtime.sessions() as session:
        job = await session.scalar(
            select(Job).where(Job.kind == "authorization.follow_up", Job.state == "queued").order_by(Job.run_at)
        )
    assert job is not None, "no follow-up is planned"
    clock.advance(max(job.run_at - clock.now, timedelta(0)))
    return await run_due(runtime, clock)


def status_of(body: dict[str, Any]) -> dict[int, str]:
    return review_actions(body)


async def test_certified_at_once(x12_runtime: Runtime, house: Clearinghouse) -> None:
    house.submit = Answer(script=Script(event=Scripted("A1", "AUTH-1")))
    body = await submit_directly(x12_runtime, pas_request("99212", "99213"))
    assert status_of(body) == {1: "A1", 2: "A1"}
    (sent,) = house.received
    assert sent.payload_type == core.PAYLOAD_278_REQUEST
    assert "NM1*IL*1*" in sent.payload


async def test_pended_then_certified_on_the_workers_inquiry(
    x12_runtime: Runtime, house: Clearinghouse, clock: MovableClock
) -> None:
    house.submit = Answer(script=Script(event=Scripted("A4"), administrative_reference="ADM-1"))
    house.inquiry = Answer(script=Script(event=Scripted("A1", "AUTH-2")))
    body = await submit_directly(x12_runtime, pas_request("99212", tag="p1"))
    assert status_of(body) == {1: "A4"}
    assert await follow_up_once(x12_runtime, clock) == 1
    assert [m.payload_type for m in house.received] == [core.PAYLOAD_278_REQUEST, core.PAYLOAD_INQUIRY_REQUEST]
    assert "REF*NT*ADM-1~" in house.received[1].payload
    again = await submit_directly(x12_runtime, pas_request("99212", tag="p1"))  # the same request: a replay
    assert status_of(again) == {1: "A1"}


async def test_a_rejected_interchange_stays_pended_and_is_retried_to_a_decision(
    x12_runtime: Runtime, house: Clearinghouse, clock: MovableClock
) -> None:
    house.submit = Answer("ta1", code="024")
    body = await submit_directly(x12_runtime, pas_request("99212", tag="t1"))
    assert status_of(body) == {1: "A4"}  # nothing decided, nothing lost
    house.submit = Answer(script=Script(event=Scripted("A1", "AUTH-3")))
    house.inquiry = Answer(script=Script(event=Scripted("A1", "AUTH-3")))
    for _ in range(3):
        await follow_up_once(x12_runtime, clock)
        if status_of(await submit_directly(x12_runtime, pas_request("99212", tag="t1"))) == {1: "A1"}:
            break
    assert status_of(await submit_directly(x12_runtime, pas_request("99212", tag="t1"))) == {1: "A1"}


async def test_aaa_is_the_payers_refusal_naming_what_it_refused(x12_runtime: Runtime, house: Clearinghouse) -> None:
    house.submit = Answer(script=Script(rejections={"2010C": ("75", "C")}))
    body = await submit_directly(x12_runtime, pas_request("99212", tag="r1"))
    assert body["resourceType"] == "OperationOutcome"
    (issue,) = body["issue"]
    assert issue["expression"] == ["Claim.insurance[0].coverage"]
    assert "reject reason 75" in issue["details"]["text"]


async def test_an_update_is_a_revision_and_a_cancel_a_cancellation(x12_runtime: Runtime, house: Clearinghouse) -> None:
    house.submit = Answer(script=Script(event=Scripted("A1", "AUTH-5")))
    original = request_bundle("99212")
    assert status_of(await submit_directly(x12_runtime, original)) == {1: "A1"}
    updated = await submit_directly(x12_runtime, update_bundle(original, Item("99212", 2)))
    assert status_of(updated) == {1: "A1"}
    assert "UM*HS*S*" in house.received[-1].payload
    house.submit = Answer(script=Script(event=Scripted("C")))
    cancelled = await submit_directly(x12_runtime, cancel_all_bundle(original))
    assert cancelled["resourceType"] == "Bundle"
    sent = house.received[-1].payload
    assert "UM*HS*3*" in sent
    assert "REF*BB*AUTH-5~" in sent


async def test_the_timeline_shows_the_trace_and_only_admins_see_the_278s(
    x12_runtime: Runtime, house: Clearinghouse, app: FastAPI, client: httpx.AsyncClient, clock: MovableClock
) -> None:
    house.submit = Answer(script=Script(event=Scripted("A4"), administrative_reference="ADM-7"))
    house.inquiry = Answer(script=Script(event=Scripted("A1", "AUTH-7")))
    body = await submit_directly(x12_runtime, pas_request("99212", tag="e1"))
    authorization_id = body["entry"][0]["resource"]["id"]
    await follow_up_once(x12_runtime, clock)
    sent = [m.payload for m in house.received]
    traces = [re.search(r"~TRN\*1\*([^*~]+)", text).group(1) for text in sent]  # type: ignore[union-attr]
    numbers = [int(text.split("*")[13]) for text in sent]  # ISA13

    detail = await client.get(f"/authorizations/{authorization_id}")  # the development client, no admin scope
    answered = [e["detail"] for e in detail.json()["timeline"] if e["type"] == "payer-answered"]
    assert [(d["trace"], d["control_number"]) for d in answered] == list(zip(traces, numbers, strict=True))
    assert "exchange" not in detail.text
    assert "NM1*IL" not in detail.text
    assert (await client.get(f"/authorizations/{authorization_id}/exchanges")).status_code == 403

    app.dependency_overrides[current_principal] = lambda: Principal(client_id="ops", scopes=frozenset(), admin=True)
    shown = (await client.get(f"/authorizations/{authorization_id}/exchanges")).json()["exchanges"]
    assert [(e["format"], e["trace"], e["control_number"], e["request"]) for e in shown] == [
        ("x12-278", trace, number, text) for trace, number, text in zip(traces, numbers, sent, strict=True)
    ]
    assert "HCR*A4" in shown[0]["response"]
    assert "HCR*A1*AUTH-7" in shown[1]["response"]
    assert (await client.get(f"/authorizations/{uuid.uuid4()}/exchanges")).status_code == 404

    # the console (development mode: its operator is the development client; otherwise admins only)
    page = (await client.get(f"/console/authorizations/{authorization_id}")).text
    assert f"TRN {traces[1]}, control number {numbers[1]}" in page
    assert f'href="/console/authorizations/{authorization_id}/exchanges"' in page
    assert "NM1*IL" not in page
    documents = (await client.get(f"/console/authorizations/{authorization_id}/exchanges")).text
    assert documents.count('<pre class="x12">') == 4  # two exchanges, each a request and a response
    assert "NM1*IL*1*" in documents
    assert "HCR*A1*AUTH-7" in documents
