"""The same Bundle submitted twice at once, over two connections: one authorization is stored.

While the first $submit waits for the payer, the second is answered at once from the stored
request's current state (pended, A4; nothing stored for it); once the first is answered, the same
Bundle replays the first answer. The payer is asked once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.authorizations import store_reads
from tests.authorizations.support import BOUND, Gate, actions_of, detail, request_bundle, sandbox, timeline
from tests.support.pas import submit


@pytest.fixture
async def second_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Another client of the same app: its requests run beside the first client's, on their own connections."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield http


@pytest.fixture
def gate(app: FastAPI) -> Iterator[Gate]:
    adapter = sandbox(app)
    held = Gate()
    setattr(adapter, "submit", held.wrap(adapter.submit))  # noqa: B010
    in_process = getattr(adapter, "answers_in_process", False)
    setattr(adapter, "answers_in_process", False)  # noqa: B010 (a payer that holds the call is a remote one)
    yield held
    held.release.set()
    delattr(adapter, "submit")
    setattr(adapter, "answers_in_process", in_process)  # noqa: B010


def _assert_in_flight(response: httpx.Response) -> None:
    """Answered from the stored request as it stands: pended."""
    assert response.status_code == 200, response.text
    assert actions_of(response.json()) == {1: "A4"}


async def test_duplicate_while_the_first_waits_for_the_payer(
    client: httpx.AsyncClient, second_client: httpx.AsyncClient, gate: Gate, engine: AsyncEngine
) -> None:
    bundle = request_bundle("99212")
    first = asyncio.create_task(submit(client, bundle))
    await asyncio.wait_for(gate.entered.wait(), timeout=BOUND)

    _assert_in_flight(await submit(second_client, bundle))

    gate.release.set()
    answered = await first
    assert answered.status_code == 200, answered.text
    again = await submit(second_client, bundle)
    assert (again.status_code, again.content) == (200, answered.content)
    assert again.headers["location"] == answered.headers["location"]
    assert gate.calls == 1
    assert await store_reads.authorization_count(engine) == 1
    shown = await detail(client, answered.json()["entry"][0]["resource"]["id"])
    assert timeline(shown) == ["received", "payer-answered"]


async def test_duplicates_sent_at_the_same_moment(
    client: httpx.AsyncClient, second_client: httpx.AsyncClient, gate: Gate, engine: AsyncEngine
) -> None:
    bundle = request_bundle("99212")
    both = [asyncio.create_task(submit(http, bundle)) for http in (client, second_client)]
    await asyncio.wait_for(gate.entered.wait(), timeout=BOUND)  # one of them reached the payer ...
    done, _ = await asyncio.wait(both, timeout=BOUND, return_when=asyncio.FIRST_COMPLETED)
    assert len(done) == 1  # ... the other was answered while it waits

    gate.release.set()
    responses = await asyncio.gather(*both)

    assert [response.status_code for response in responses] == [200, 200], [r.text for r in responses]
    pended = [response for response in responses if actions_of(response.json()) == {1: "A4"}]
    assert len(pended) == 1  # the one answered while the other waited for the payer
    _assert_in_flight(pended[0])
    assert len({response.json()["entry"][0]["resource"]["id"] for response in responses}) == 1
    assert gate.calls == 1
    assert await store_reads.authorization_count(engine) == 1
