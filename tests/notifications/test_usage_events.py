"""`exhausting` and `exhausted` reach a real loopback receiver: signed webhooks (once each) and FHIR
Subscription event notifications, in order after the decision that authorized the units."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
from standardwebhooks.webhooks import Webhook

from app.runtime import Runtime
from tests.support.bundles import pas_request
from tests.support.pas import FHIR_JSON, submit
from tests.support.receiver import running_receiver
from tests.support.subscriptions import subscription
from tests.support.worker import drain


def _approved_for(units: int) -> dict[str, Any]:
    bundle = pas_request("99212")
    bundle["entry"][0]["resource"]["item"][0]["quantity"] = {"value": units}
    return bundle


async def _use(client: httpx.AsyncClient, authorization_id: str, units: int) -> None:
    response = await client.post(f"/authorizations/{authorization_id}/usage", json={"units": units})
    assert response.status_code == 201, response.text


async def test_exhausting_and_exhausted_are_delivered_once_each_as_webhooks(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    async with running_receiver() as receiver:
        registered = await client.post("/webhooks", json={"url": receiver.url, "event_types": ["*"]})
        assert registered.status_code == 201, registered.text
        secret = registered.json()["secret"]
        answered = await submit(client, _approved_for(5))
        authorization_id = answered.headers["location"].rsplit("/", 1)[-1]
        for units in (2, 2, 1, 1):  # 40 %, 80 % (exhausting), 100 % (exhausted), 120 %
            await _use(client, authorization_id, units)
        await drain(runtime)
        payloads = [Webhook(secret).verify(r.body, r.headers) for r in receiver.requests]
    assert [p["type"] for p in payloads] == [
        "authorization.received",
        "authorization.approved",
        "authorization.exhausting",
        "authorization.exhausted",
    ]
    assert payloads[-1]["data"]["status"] == "approved"
    assert payloads[-1]["data"]["authorization_id"] == authorization_id


async def test_an_endpoint_can_subscribe_to_exhausted_alone(client: httpx.AsyncClient, runtime: Runtime) -> None:
    async with running_receiver() as receiver:
        registered = await client.post(
            "/webhooks", json={"url": receiver.url, "event_types": ["authorization.exhausted"]}
        )
        assert registered.status_code == 201, registered.text
        answered = await submit(client, _approved_for(1))
        await _use(client, answered.headers["location"].rsplit("/", 1)[-1], 1)
        await drain(runtime)
        types = [orjson.loads(r.body)["type"] for r in receiver.requests]
    assert types == ["authorization.exhausted"]


async def test_exhausting_and_exhausted_are_subscription_event_notifications(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    async with running_receiver() as receiver:
        created = await client.post(
            "/fhir/Subscription", content=orjson.dumps(subscription(receiver.url)), headers=FHIR_JSON
        )
        assert created.status_code == 201, created.text
        await drain(runtime)
        answered = await submit(client, _approved_for(4))
        authorization_id = answered.headers["location"].rsplit("/", 1)[-1]
        await _use(client, authorization_id, 1)  # 25 %: no notification
        await _use(client, authorization_id, 3)  # 100 %: exhausting and exhausted
        await drain(runtime)
        bundles = [orjson.loads(r.body) for r in receiver.requests]
    kinds = [_parameters(b)["type"]["valueCode"] for b in bundles]
    assert kinds == ["handshake", *["event-notification"] * 4]  # received, approved, exhausting, exhausted
    numbers = [_parameters(b)["notification-event"]["part"][0]["valueString"] for b in bundles[1:]]
    assert numbers == ["1", "2", "3", "4"]
    claim_response = bundles[-1]["entry"][1]["resource"]["entry"][0]["resource"]
    assert claim_response["resourceType"] == "ClaimResponse"
    assert claim_response["id"] == authorization_id


def _parameters(bundle: dict[str, Any]) -> dict[str, Any]:
    status = bundle["entry"][0]["resource"]
    return {p["name"]: p for p in status["parameter"]}
