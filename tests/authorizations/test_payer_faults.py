"""A payer slower than the sync budget, and an adapter that raises outside its error tree: the
request is answered as pended (A4), nothing is lost, and the worker carries it to a decision."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
import respx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.codes import ReviewAction
from tests.authorizations import store_reads
from tests.authorizations.support import (
    Driver,
    detail,
    last_transition,
    outcome_of,
    pas_answer,
    request_bundle,
    sandbox,
    submit_bundle,
    timeline,
)

FOLLOW_UP_DUE = timedelta(minutes=5, seconds=1)


@pytest.fixture
def sync_budget() -> float:
    return 0.2


async def test_payer_slower_than_the_sync_budget_is_answered_pended_then_followed_up(
    client: httpx.AsyncClient, acme: respx.MockRouter, driver: Driver, engine: AsyncEngine
) -> None:
    calls = 0

    async def slow_then_quick(_request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            await asyncio.sleep(0.8)  # past the 0.2 s budget: $submit stops waiting (and cancels this)
        return pas_answer(ReviewAction.CERTIFIED)

    acme.post("/Claim/$submit").mock(side_effect=slow_then_quick)
    inquiry = acme.post("/Claim/$inquire").mock(return_value=pas_answer(ReviewAction.CERTIFIED))

    pended = await submit_bundle(client, request_bundle("99212", acme=True))

    assert pended.actions == {1: "A4"}
    assert outcome_of(pended.body) == "partial"  # PAS: not yet decided
    shown = await detail(client, pended.authorization_id)
    assert shown["status"] == "pended"
    assert timeline(shown) == ["received", "payer-timed-out"]
    assert shown["timeline"][-1]["detail"] == {
        "kind": "timed-out",
        "error": "sync budget exceeded",
        "reason": "no answer within the sync budget of 0.2 s",
    }
    follow_up = await store_reads.queued_follow_up(engine, pended.authorization_id)
    assert follow_up is not None
    assert follow_up.action == "confirm"  # the payer may have it: ask before sending it again

    await driver.run(FOLLOW_UP_DUE)

    assert (calls, inquiry.call_count) == (1, 1)  # confirmed by inquiry, never sent twice
    decided = await detail(client, pended.authorization_id)
    assert decided["status"] == "approved"
    assert last_transition(decided) == ("payer-answered", "pended", "approved")
    assert await store_reads.queued_follow_up(engine, pended.authorization_id) is None


def _raising_first(
    times: int, error: Exception
) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
    """Wraps adapter calls so that the first `times` calls through any of them raise `error`."""
    raised = 0

    def wrap(call: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def adapter_call(*args: Any) -> Any:
            nonlocal raised
            if raised < times:
                raised += 1
                raise error
            return await call(*args)

        return adapter_call

    return wrap


@pytest.mark.parametrize("error", [RuntimeError("adapter bug"), KeyError("missing")], ids=type)
async def test_adapter_raising_outside_its_error_tree_is_pended_and_followed_up(
    error: Exception, client: httpx.AsyncClient, app: FastAPI, driver: Driver, engine: AsyncEngine
) -> None:
    adapter = sandbox(app)
    # raises on $submit and on the first follow-up (an inquiry: the broken call may have reached the
    # payer); the sandbox's own answer after that
    failing = _raising_first(2, error)
    setattr(adapter, "submit", failing(adapter.submit))  # noqa: B010
    setattr(adapter, "inquire", failing(adapter.inquire))  # noqa: B010
    try:
        pended = await submit_bundle(client, request_bundle("99212"))

        assert pended.actions == {1: "A4"}
        shown = await detail(client, pended.authorization_id)
        assert shown["status"] == "pended"
        assert timeline(shown) == ["received", "payer-adapter-failed"]
        assert shown["timeline"][-1]["detail"]["reason"] == (
            f"the adapter raised {type(error).__name__} outside its error tree"  # never its message
        )
        follow_up = await store_reads.queued_follow_up(engine, pended.authorization_id)
        assert follow_up is not None
        assert follow_up.action == "confirm"

        await driver.run(FOLLOW_UP_DUE)  # the worker's attempt fails too: the job is retried later
        assert await detail(client, pended.authorization_id) == shown
        assert await store_reads.queued_follow_up(engine, pended.authorization_id) is not None

        await driver.run(timedelta(hours=1))
    finally:
        delattr(adapter, "submit")
        delattr(adapter, "inquire")
    decided = await detail(client, pended.authorization_id)
    assert decided["status"] == "approved"
    assert last_transition(decided) == ("payer-answered", "pended", "approved")
    assert await store_reads.queued_follow_up(engine, pended.authorization_id) is None
