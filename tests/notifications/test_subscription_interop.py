"""Subscriptions as client libraries drive them: the handshake at once, events held behind it, list, $status by POST."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
from fastapi import FastAPI

from app.runtime import Runtime
from app.security.principal import CLAIM_RESPONSE_READ, CLAIM_WRITE, SUBSCRIPTION_ALL
from tests.support.auth import bearer, token_for
from tests.support.bundles import pas_request
from tests.support.pas import FHIR_JSON, submit
from tests.support.receiver import Received, running_receiver
from tests.support.subscriptions import create_subscription, status_parameters, subscription
from tests.support.worker import drain


def _kinds(bodies: list[dict[str, Any]]) -> list[str]:
    return [status_parameters(b)["type"]["valueCode"] for b in bodies]


async def test_the_handshake_goes_out_before_any_worker_runs(client: httpx.AsyncClient) -> None:
    async with running_receiver() as receiver:
        created = (await create_subscription(client, subscription(receiver.url))).json()
        await receiver.wait_for(1)
        assert _kinds([orjson.loads(r.body) for r in receiver.requests]) == ["handshake"]
    assert (await client.get(f"/fhir/Subscription/{created['id']}")).json()["status"] == "active"


async def test_events_before_a_delivered_handshake_are_queued_and_sent_after_it_in_order(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    calls = 0

    async def first_refused(_request: Received) -> tuple[int, dict[str, str]]:
        nonlocal calls
        calls += 1
        return (503 if calls == 1 else 200), {}

    async with running_receiver(first_refused) as receiver:
        created = (await create_subscription(client, subscription(receiver.url))).json()
        assert (await client.get(f"/fhir/Subscription/{created['id']}")).json()["status"] == "requested"
        await submit(client, pas_request("99212", tag="early-1"))
        await submit(client, pas_request("99213", tag="early-2"))
        await drain(runtime)
        bodies = [orjson.loads(r.body) for r in receiver.requests]
    kinds = _kinds(bodies)
    assert kinds[:2] == ["handshake", "handshake"]  # refused once, then delivered
    events = [status_parameters(b) for b, kind in zip(bodies, kinds, strict=True) if kind == "event-notification"]
    assert len(events) == 4  # received and decided, for each request: none dropped
    assert [e["notification-event"]["part"][0]["valueString"] for e in events] == ["1", "2", "3", "4"]
    assert kinds.index("event-notification") > 1


async def test_status_answers_post_as_well_as_get(client: httpx.AsyncClient) -> None:
    created = (await create_subscription(client, subscription("https://ehr.example.org/hook"))).json()
    by_get = await client.get(f"/fhir/Subscription/{created['id']}/$status")
    by_post = await client.post(f"/fhir/Subscription/{created['id']}/$status")
    assert by_get.status_code == by_post.status_code == 200
    assert status_parameters(by_post.json())["subscription"] == status_parameters(by_get.json())["subscription"]


async def test_listing_subscriptions_shows_the_callers_own_only(client: httpx.AsyncClient, app: FastAPI) -> None:
    scopes = [SUBSCRIPTION_ALL, CLAIM_WRITE, CLAIM_RESPONSE_READ]
    alice = await token_for(client, app, "ehr-alice", scopes)
    bob = await token_for(client, app, "ehr-bob", scopes)
    body = orjson.dumps(subscription("https://ehr.example.org/hook"))
    mine = set()
    for _ in range(3):
        created = await client.post("/fhir/Subscription", content=body, headers={**FHIR_JSON, **bearer(alice)})
        mine.add(created.json()["id"])
    await client.post("/fhir/Subscription", content=body, headers={**FHIR_JSON, **bearer(bob)})
    first = (await client.get("/fhir/Subscription", params={"_count": "2"}, headers=bearer(alice))).json()
    assert first["type"] == "searchset"
    assert first["total"] == 3
    links = {link["relation"]: link["url"] for link in first["link"]}
    second = (await client.get(links["next"].removeprefix("http://127.0.0.1:8000"), headers=bearer(alice))).json()
    found = {e["resource"]["id"] for e in [*first["entry"], *second["entry"]]}
    assert found == mine
    assert "next" not in {link["relation"] for link in second["link"]}
    assert (await client.get("/fhir/Subscription", headers=bearer(bob))).json()["total"] == 1
