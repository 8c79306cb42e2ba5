"""FHIR Subscriptions on the PAS topic: handshake, event notifications (history Bundles), $status, errors."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.fhir.subscription import FILTER_CRITERIA, HEARTBEAT_PERIOD, PAS_TOPIC
from app.notifications.subscriptions import org_matches
from app.runtime import Runtime
from app.store.models import FhirSubscription
from tests.support.bundles import pas_request
from tests.support.pas import FHIR_JSON, submit
from tests.support.profiles import check_response_bundle
from tests.support.receiver import Received, running_receiver
from tests.support.subscriptions import create_subscription, status_parameters, subscription
from tests.support.worker import drain


async def test_handshake_then_full_resource_notifications(client: httpx.AsyncClient, runtime: Runtime) -> None:
    async with running_receiver() as receiver:
        created = await create_subscription(client, subscription(receiver.url))
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["status"] == "requested"
        await drain(runtime)
        assert (await client.get(f"/fhir/Subscription/{body['id']}")).json()["status"] == "active"
        await submit(client, pas_request("99212"))
        await drain(runtime)
        bundles = [orjson.loads(r.body) for r in receiver.requests]
        headers = [r.headers for r in receiver.requests]
    assert all(h["authorization"] == "Bearer receiver-token" for h in headers)
    assert all(h["content-type"] == "application/fhir+json" for h in headers)
    handshake = status_parameters(bundles[0])
    assert handshake["type"]["valueCode"] == "handshake"
    assert handshake["topic"]["valueCanonical"] == PAS_TOPIC
    for notification in bundles[1:]:
        check_response_bundle(notification)  # the PAS profiles' rules hold inside notifications too
    events = [status_parameters(b) for b in bundles[1:]]
    assert [e["type"]["valueCode"] for e in events] == ["event-notification", "event-notification"]
    numbers = [e["notification-event"]["part"][0]["valueString"] for e in events]
    assert numbers == ["1", "2"]
    assert events[-1]["events-since-subscription-start"]["valueString"] == "2"
    focus = events[-1]["notification-event"]["part"][2]["valueReference"]["reference"]
    carrier = next(e for e in bundles[-1]["entry"] if e["fullUrl"] == focus)  # full-resource: the focus is inside
    assert "/fhir/ClaimResponse/" in carrier["resource"]["entry"][0]["fullUrl"]
    response_bundle = bundles[-1]["entry"][1]["resource"]
    assert response_bundle["resourceType"] == "Bundle"
    assert response_bundle["entry"][0]["resource"]["resourceType"] == "ClaimResponse"
    status = await client.get(f"/fhir/Subscription/{body['id']}/$status")
    assert status.status_code == 200
    assert status_parameters(status.json())["events-since-subscription-start"]["valueString"] == "2"


@pytest.mark.parametrize("content", ["id-only", "empty", None])
async def test_only_full_resource_subscriptions_are_accepted(
    client: httpx.AsyncClient, engine: AsyncEngine, content: str | None
) -> None:
    resource = subscription("https://ehr.example.org/hook", content or "full-resource")
    if content is None:
        del resource["channel"]["_payload"]
    response = await create_subscription(client, resource)
    assert response.status_code == 400
    (issue,) = response.json()["issue"]
    assert issue["expression"] == ["Subscription.channel.payload"]
    assert "full-resource" in issue["details"]["text"]
    assert "spec-62" in issue["details"]["text"]
    async with engine.connect() as connection:
        assert (await connection.execute(select(func.count()).select_from(FhirSubscription))).scalar_one() == 0


async def test_every_channel_header_is_sent_on_each_notification(client: httpx.AsyncClient, runtime: Runtime) -> None:
    headers = ["Authorization: Bearer inferno-token-1", "X-Tenant: clinic-7"]
    async with running_receiver() as receiver:
        resource = subscription(receiver.url)
        resource["channel"]["header"] = headers
        assert (await create_subscription(client, resource)).status_code == 201
        await drain(runtime)
        await submit(client, pas_request("99212"))
        await drain(runtime)
        received = [(orjson.loads(r.body), r.headers) for r in receiver.requests]
    kinds = [status_parameters(body)["type"]["valueCode"] for body, _ in received]
    assert kinds == ["handshake", "event-notification", "event-notification"]
    for _, sent in received:
        assert sent["authorization"] == "Bearer inferno-token-1"
        assert sent["x-tenant"] == "clinic-7"


async def test_failed_handshakes_put_the_subscription_in_error(client: httpx.AsyncClient, runtime: Runtime) -> None:
    async def down(_request: Received) -> tuple[int, dict[str, str]]:
        return 500, {}

    async with running_receiver(down) as receiver:
        created = (await create_subscription(client, subscription(receiver.url))).json()
        await drain(runtime)
        assert len(receiver.requests) == runtime.settings.subscription_handshake_attempts
    after = (await client.get(f"/fhir/Subscription/{created['id']}")).json()
    assert after["status"] == "error"


async def test_update_and_delete(client: httpx.AsyncClient, runtime: Runtime) -> None:
    async with running_receiver() as receiver:
        created = (await create_subscription(client, subscription(receiver.url))).json()
        heartbeat = subscription(receiver.url)
        heartbeat["channel"]["extension"] = [{"url": HEARTBEAT_PERIOD, "valueUnsignedInt": 60}]
        heartbeat["_criteria"] = {"extension": [{"url": FILTER_CRITERIA, "valueString": "org-identifier=123"}]}
        updated = await client.put(
            f"/fhir/Subscription/{created['id']}", content=orjson.dumps(heartbeat), headers=FHIR_JSON
        )
        assert updated.status_code == 200
        assert updated.json()["meta"]["versionId"] == "2"
    assert (await client.delete(f"/fhir/Subscription/{created['id']}")).status_code == 204
    assert (await client.get(f"/fhir/Subscription/{created['id']}")).status_code == 404


@pytest.mark.parametrize(
    "change",
    [
        {"criteria": "Claim?status=active"},
        {"channel": {"type": "websocket"}},
        {"_criteria": {"extension": [{"url": FILTER_CRITERIA, "valueString": "patient=123"}]}},
    ],
)
async def test_unsupported_subscriptions_are_refused(client: httpx.AsyncClient, change: dict[str, Any]) -> None:
    response = await create_subscription(client, subscription("https://ehr.example.org/hook", **change))
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"


async def test_capability_statement_declares_the_topic(client: httpx.AsyncClient) -> None:
    rest = (await client.get("/fhir/metadata")).json()["rest"][0]
    subscription_resource = next(r for r in rest["resource"] if r["type"] == "Subscription")
    assert subscription_resource["extension"][0]["valueCanonical"] == PAS_TOPIC


@pytest.mark.parametrize(
    ("org_filter", "provider", "expected"),
    [
        (None, None, True),
        ("http://hl7.org/fhir/sid/us-npi|123", "http://hl7.org/fhir/sid/us-npi|123", True),
        ("123", "http://hl7.org/fhir/sid/us-npi|123", True),
        ("http://other|123", "http://hl7.org/fhir/sid/us-npi|123", False),
        ("123", None, False),
    ],
)
def test_org_filter(org_filter: str | None, provider: str | None, expected: bool) -> None:
    assert org_matches(org_filter, provider) is expected


async def test_channel_headers_are_sealed_at_rest_masked_on_read_and_still_sent(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    async with running_receiver() as receiver:
        created = await create_subscription(client, subscription(receiver.url))
        assert created.status_code == 201, created.text
        await drain(runtime)  # the handshake carries the header, decrypted
    assert receiver.requests[0].headers["authorization"] == "Bearer receiver-token"
    assert created.json()["channel"]["header"] == ["Authorization: ****"]
    read = await client.get(f"/fhir/Subscription/{created.json()['id']}", headers=FHIR_JSON)
    assert read.json()["channel"]["header"] == ["Authorization: ****"]
    searched = await client.get("/fhir/Subscription", headers=FHIR_JSON)
    assert "receiver-token" not in searched.text
    async with runtime.sessions() as session:
        rows = (await session.execute(select(FhirSubscription))).scalars().all()
    stored = orjson.dumps([(row.headers, row.resource) for row in rows])
    assert rows
    assert b"receiver-token" not in stored
