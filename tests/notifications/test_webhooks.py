"""Webhooks end to end: registration, signed deliveries to a real receiver, order, retries, 410, log, SSRF."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from standardwebhooks.webhooks import Webhook

from app.runtime import Runtime
from tests.support.bundles import pas_request
from tests.support.pas import submit
from tests.support.receiver import Received, running_receiver
from tests.support.worker import drain

PHI_KEYS = {"name", "birthDate", "birth_date", "member_id", "patient_member_id", "gender", "address"}


async def _register(client: httpx.AsyncClient, url: str, events: list[str] | None = None) -> dict[str, Any]:
    response = await client.post("/webhooks", json={"url": url, "event_types": events or ["*"], "description": "t"})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _verified(secret: str, request: Received) -> dict[str, Any]:
    payload: dict[str, Any] = Webhook(secret).verify(request.body, request.headers)
    return payload


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


async def test_decision_is_pushed_signed_and_in_order(client: httpx.AsyncClient, runtime: Runtime) -> None:
    async with running_receiver() as receiver:
        endpoint = await _register(client, receiver.url)
        assert endpoint["secret"].startswith("whsec_")
        response = await submit(client, pas_request("99212"))
        assert response.status_code == 200
        await drain(runtime)
        payloads = [_verified(endpoint["secret"], r) for r in receiver.requests]
    assert [p["type"] for p in payloads] == ["authorization.received", "authorization.approved"]
    data = payloads[-1]["data"]
    assert data["status"] == "approved"
    assert data["items"][0]["decision"] == "A1"
    assert data["link"].endswith(f"/fhir/ClaimResponse/{data['authorization_id']}")
    assert not (_keys(payloads) & PHI_KEYS)
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 2
    listed = (await client.get("/webhooks")).json()
    assert listed["next_cursor"] is None
    assert "secret" not in listed["endpoints"][0]


async def test_event_filter_and_delivery_log_and_redeliver(client: httpx.AsyncClient, runtime: Runtime) -> None:
    async with running_receiver() as receiver:
        endpoint = await _register(client, receiver.url, ["authorization.approved"])
        await submit(client, pas_request("99212"))
        await drain(runtime)
        assert len(receiver.requests) == 1
        log = (await client.get(f"/webhooks/{endpoint['id']}/deliveries")).json()["deliveries"]
        assert [(d["event_type"], d["state"], d["attempts"]) for d in log] == [
            ("authorization.approved", "delivered", 1)
        ]
        detail = (await client.get(f"/webhooks/deliveries/{log[0]['id']}")).json()
        assert detail["attempt_log"][0]["status_code"] == 204
        again = await client.post(f"/webhooks/deliveries/{log[0]['id']}/redeliver")
        assert again.status_code == 202
        await drain(runtime)
        assert len(receiver.requests) == 2
        assert receiver.requests[0].headers["webhook-id"] == receiver.requests[1].headers["webhook-id"]
        ping = await client.post(f"/webhooks/{endpoint['id']}/ping")
        assert ping.status_code == 202
        await drain(runtime)
        assert _verified(endpoint["secret"], receiver.requests[-1])["type"] == "webhook.ping"


async def test_retries_keep_later_events_waiting(client: httpx.AsyncClient, runtime: Runtime) -> None:
    failures = {"left": 3}

    async def flaky_first(request: Received) -> tuple[int, dict[str, str]]:
        if orjson.loads(request.body)["type"] == "authorization.received" and failures["left"] > 0:
            failures["left"] -= 1
            return 503, {"retry-after": "0"}
        return 200, {}

    async with running_receiver(flaky_first) as receiver:
        endpoint = await _register(client, receiver.url)
        await submit(client, pas_request("99212"))
        await drain(runtime)
        types = [orjson.loads(r.body)["type"] for r in receiver.requests]
    assert types == ["authorization.received"] * 4 + ["authorization.approved"]
    log = (await client.get(f"/webhooks/{endpoint['id']}/deliveries")).json()["deliveries"]
    received = next(d for d in log if d["event_type"] == "authorization.received")
    detail = (await client.get(f"/webhooks/deliveries/{received['id']}")).json()
    assert [a["status_code"] for a in detail["attempt_log"]] == [503, 503, 503, 200]


async def test_410_disables_the_endpoint(client: httpx.AsyncClient, runtime: Runtime) -> None:
    async def gone(_request: Received) -> tuple[int, dict[str, str]]:
        return 410, {}

    async with running_receiver(gone) as receiver:
        endpoint = await _register(client, receiver.url)
        await submit(client, pas_request("99212"))
        await drain(runtime)
        assert len(receiver.requests) == 1
    after = (await client.get(f"/webhooks/{endpoint['id']}")).json()
    assert after["enabled"] is False
    assert "410" in after["disabled_reason"]


async def test_rotation_signs_with_both_secrets_during_the_grace_period(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    async with running_receiver() as receiver:
        endpoint = await _register(client, receiver.url)
        rotated = (await client.post(f"/webhooks/{endpoint['id']}/rotate-secret")).json()
        assert rotated["secret"] != endpoint["secret"]
        await client.post(f"/webhooks/{endpoint['id']}/ping")
        await drain(runtime)
        request = receiver.requests[-1]
    assert _verified(endpoint["secret"], request)["type"] == "webhook.ping"
    assert _verified(rotated["secret"], request)["type"] == "webhook.ping"


@pytest.mark.parametrize(
    "url",
    ["http://169.254.169.254/latest/meta-data", "ftp://example.org/x", "https://user:pw@example.org/x"],
)
async def test_unsafe_urls_are_refused(client: httpx.AsyncClient, runtime: Runtime, url: str) -> None:
    object.__setattr__(runtime.settings, "webhook_allow_private_targets", False)
    response = await client.post("/webhooks", json={"url": url, "event_types": ["*"]})
    assert response.status_code == 400


async def test_another_clients_endpoint_is_not_found(client: httpx.AsyncClient) -> None:
    missing = await client.get("/webhooks/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    bad = await client.post("/webhooks", json={"url": "https://example.org/h", "event_types": ["authorization.nope"]})
    assert bad.status_code == 400
