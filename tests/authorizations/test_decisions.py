"""Every answered outcome: from `received` (the sandbox's rules, a PAS cancel) and from `pended`
(the worker follows a fhir-pas payer's A4 up and gets each final answer). A6 and A2 end to end."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest
import respx
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.codes import ReviewAction
from tests.authorizations import store_reads
from tests.authorizations.states import SANDBOX_ANSWERS
from tests.authorizations.support import (
    Driver,
    Item,
    cancel_all_bundle,
    claim_response_of,
    detail,
    last_transition,
    pas_answer,
    request_bundle,
    submit_bundle,
    timeline,
)
from tests.support.pas import claim_response

FOLLOW_UP_DUE = timedelta(minutes=5, seconds=1)


# The coverage rules shipped with the service settle A9270 themselves; the payer is not asked.
DECIDED_BY = {"denied": "coverage-rules-decided"}


@pytest.mark.parametrize("status", list(SANDBOX_ANSWERS))
async def test_answered_from_received(status: str, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    item, action, _ = SANDBOX_ANSWERS[status]

    answered = await submit_bundle(client, request_bundle(item))

    assert answered.actions == {1: action}
    shown = await detail(client, answered.authorization_id)
    assert shown["status"] == status
    assert [item["decision_code"] for item in shown["items"]] == [action]
    event = DECIDED_BY.get(status, "payer-answered")
    assert timeline(shown) == ["received", event]
    assert last_transition(shown) == (event, "received", status)
    assert await store_reads.published(engine, answered.authorization_id) == [
        "authorization.received",
        f"authorization.{status}",
    ]
    follow_up = await store_reads.queued_follow_up(engine, answered.authorization_id)
    assert (follow_up is not None) == (status == "pended")


async def test_cancelled_from_received_by_a_pas_cancel(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    original = request_bundle("99212", "99211")
    await submit_bundle(client, original)

    cancel = await submit_bundle(client, cancel_all_bundle(original))

    shown = await detail(client, cancel.authorization_id)
    assert shown["status"] == "cancelled"
    assert [item["decision_code"] for item in shown["items"]] == ["C", "C"]
    assert timeline(shown) == ["received", "payer-answered"]
    assert last_transition(shown) == ("payer-answered", "received", "cancelled")
    assert (await store_reads.published(engine, cancel.authorization_id))[-1] == "authorization.cancelled"


async def test_modified_a6_end_to_end(client: httpx.AsyncClient) -> None:
    modified = await submit_bundle(client, request_bundle("E0260"))

    assert modified.actions == {1: "A6"}
    shown = await detail(client, modified.authorization_id)
    assert shown["status"] == "modified"
    item = shown["items"][0]
    assert (item["product_code"], item["decision_code"], item["authorized_code"]) == ("E0260", "A6", "E0250")
    period = item["authorized_period"]
    assert date.fromisoformat(period["end"]) - date.fromisoformat(period["start"]) == timedelta(days=29)  # 30 days
    assert item["authorization_number"]
    assert shown["clocks"]["expires_at"] is not None
    assert shown["clocks"]["decided_at"] is not None
    assert await claim_response_of(client, modified.authorization_id) == claim_response(modified.body)


@pytest.mark.parametrize(("quantity", "action", "status"), [(7, "A2", "partially-approved"), (6, "A1", "approved")])
async def test_partial_a2_end_to_end(quantity: int, action: str, status: str, client: httpx.AsyncClient) -> None:
    answered = await submit_bundle(client, request_bundle(Item("97110", quantity=quantity)))

    assert answered.actions == {1: action}
    shown = await detail(client, answered.authorization_id)
    assert shown["status"] == status
    item = shown["items"][0]
    assert item["quantity"] == quantity
    if action == "A2":
        assert item["authorized_quantity"] == 6
    assert item["authorization_number"]
    assert shown["clocks"]["expires_at"] is not None


FROM_PENDED = [
    (ReviewAction.CERTIFIED, "approved"),
    (ReviewAction.NOT_CERTIFIED, "denied"),
    (ReviewAction.PARTIAL, "partially-approved"),
    (ReviewAction.MODIFIED, "modified"),
    (ReviewAction.NO_ACTION_REQUIRED, "not-required"),
    (ReviewAction.CANCELLED, "cancelled"),
]


@pytest.mark.parametrize(("answer", "status"), FROM_PENDED, ids=[status for _, status in FROM_PENDED])
async def test_answered_from_pended_by_the_worker(
    answer: ReviewAction,
    status: str,
    client: httpx.AsyncClient,
    acme: respx.MockRouter,
    driver: Driver,
    engine: AsyncEngine,
) -> None:
    acme.post("/Claim/$submit").mock(return_value=pas_answer(ReviewAction.PENDED, ReviewAction.PENDED))
    inquire = acme.post("/Claim/$inquire").mock(return_value=pas_answer(answer, answer))
    pended = await submit_bundle(client, request_bundle("99212", "99211", acme=True))
    assert pended.actions == {1: "A4", 2: "A4"}
    before = await detail(client, pended.authorization_id)
    assert before["status"] == "pended"

    await driver.run(FOLLOW_UP_DUE)

    assert inquire.call_count == 1
    shown = await detail(client, pended.authorization_id)
    assert shown["status"] == status
    assert [item["decision_code"] for item in shown["items"]] == [answer.value] * 2
    assert last_transition(shown) == ("payer-answered", "pended", status)
    assert timeline(shown) == [*timeline(before), "payer-answered"]
    if answer is ReviewAction.MODIFIED:
        assert [item["authorized_code"] for item in shown["items"]] == ["E0250", "E0250"]
    assert (await store_reads.published(engine, pended.authorization_id))[-1] == f"authorization.{status}"
    assert await store_reads.queued_follow_up(engine, pended.authorization_id) is None
    answered = await claim_response_of(client, pended.authorization_id)
    assert {item["itemSequence"] for item in answered["item"]} == {1, 2}


async def test_pended_again_stays_pended_and_is_asked_again(
    client: httpx.AsyncClient, acme: respx.MockRouter, driver: Driver, engine: AsyncEngine
) -> None:
    acme.post("/Claim/$submit").mock(return_value=pas_answer(ReviewAction.PENDED))
    inquire = acme.post("/Claim/$inquire").mock(return_value=pas_answer(ReviewAction.PENDED))
    pended = await submit_bundle(client, request_bundle("99212", acme=True))

    await driver.run(FOLLOW_UP_DUE)
    await driver.run(FOLLOW_UP_DUE)

    assert inquire.call_count == 2
    shown = await detail(client, pended.authorization_id)
    assert shown["status"] == "pended"
    assert last_transition(shown) == ("payer-answered", "pended", "pended")
    follow_up = await store_reads.queued_follow_up(engine, pended.authorization_id)
    assert follow_up is not None
    assert follow_up.action == "inquire"
