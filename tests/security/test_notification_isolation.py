"""A second client tried against every webhook, delivery and Subscription route: 404 (or its own,
empty list) everywhere, and the first client's resources unchanged afterwards."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
from fastapi import FastAPI

from app.security.principal import SUBSCRIPTION_ALL, WEBHOOKS_READ, WEBHOOKS_WRITE
from tests.support.auth import bearer, token_for
from tests.support.pas import FHIR_JSON
from tests.support.subscriptions import subscription

SCOPES = [WEBHOOKS_READ, WEBHOOKS_WRITE, SUBSCRIPTION_ALL]


def _delivery_ids(body: Any) -> list[int]:
    """Delivery ids of a deliveries page (a bare list, or an object holding the list)."""
    rows = body if isinstance(body, list) else next(v for v in body.values() if isinstance(v, list))
    return [row["id"] for row in rows]


def _routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) the app serves under /webhooks and /fhir/Subscription, from its OpenAPI schema."""
    return {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith(("/webhooks", "/fhir/Subscription"))
        for method in operations
    }


async def _owned_by_a(http: httpx.AsyncClient, token: str) -> dict[str, Any]:
    headers = bearer(token)
    endpoint = await http.post(
        "/webhooks", json={"url": "https://hooks.example.org/a", "event_types": ["*"]}, headers=headers
    )
    assert endpoint.status_code == 201, endpoint.text
    endpoint_id = endpoint.json()["id"]
    assert (await http.post(f"/webhooks/{endpoint_id}/ping", headers=headers)).status_code == 202
    deliveries = (await http.get(f"/webhooks/{endpoint_id}/deliveries", headers=headers)).json()
    created = await http.post(
        "/fhir/Subscription",
        content=orjson.dumps(subscription("https://hooks.example.org/fhir")),
        headers={**FHIR_JSON, **headers},
    )
    assert created.status_code == 201, created.text
    return {
        "endpoint_id": endpoint_id,
        "delivery_id": _delivery_ids(deliveries)[0],
        "subscription_id": created.json()["id"],
        "endpoint": (await http.get(f"/webhooks/{endpoint_id}", headers=headers)).json(),
        "subscription": (await http.get(f"/fhir/Subscription/{created.json()['id']}", headers=headers)).json(),
    }


async def test_another_client_finds_nothing_of_the_first_on_any_notification_route(
    secure_app: FastAPI, secure_client: httpx.AsyncClient
) -> None:
    http = secure_client
    token_a = await token_for(http, secure_app, "ehr-a", SCOPES)
    token_b = await token_for(http, secure_app, "ehr-b", SCOPES)
    owned = await _owned_by_a(http, token_a)
    e, d, s = owned["endpoint_id"], owned["delivery_id"], owned["subscription_id"]
    replacement = orjson.dumps(subscription("https://hooks.example.org/other"))
    tries: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {
        ("GET", "/webhooks/{endpoint_id}"): (f"/webhooks/{e}", {}),
        ("PATCH", "/webhooks/{endpoint_id}"): (f"/webhooks/{e}", {"json": {"enabled": False}}),
        ("DELETE", "/webhooks/{endpoint_id}"): (f"/webhooks/{e}", {}),
        ("POST", "/webhooks/{endpoint_id}/rotate-secret"): (f"/webhooks/{e}/rotate-secret", {}),
        ("POST", "/webhooks/{endpoint_id}/ping"): (f"/webhooks/{e}/ping", {}),
        ("GET", "/webhooks/{endpoint_id}/deliveries"): (f"/webhooks/{e}/deliveries", {}),
        ("GET", "/webhooks/deliveries/{delivery_id}"): (f"/webhooks/deliveries/{d}", {}),
        ("POST", "/webhooks/deliveries/{delivery_id}/redeliver"): (f"/webhooks/deliveries/{d}/redeliver", {}),
        ("POST", "/webhooks/deliveries/{delivery_id}/send-now"): (f"/webhooks/deliveries/{d}/send-now", {}),
        ("POST", "/webhooks/{endpoint_id}/send-pending-now"): (f"/webhooks/{e}/send-pending-now", {}),
        ("GET", "/fhir/Subscription/{subscription_id}"): (f"/fhir/Subscription/{s}", {}),
        ("PUT", "/fhir/Subscription/{subscription_id}"): (
            f"/fhir/Subscription/{s}",
            {"content": replacement, "headers": FHIR_JSON},
        ),
        ("DELETE", "/fhir/Subscription/{subscription_id}"): (f"/fhir/Subscription/{s}", {}),
        ("GET", "/fhir/Subscription/{subscription_id}/$status"): (f"/fhir/Subscription/{s}/$status", {}),
        ("POST", "/fhir/Subscription/{subscription_id}/$status"): (f"/fhir/Subscription/{s}/$status", {}),
    }
    own_lists = {
        ("GET", "/webhooks"),
        ("POST", "/webhooks"),
        ("GET", "/fhir/Subscription"),
        ("POST", "/fhir/Subscription"),
    }
    assert _routes(secure_app) == set(tries) | own_lists, "a notification route is not tried by a second client"

    for (method, _), (path, options) in tries.items():
        headers = {**options.pop("headers", {}), **bearer(token_b)}
        response = await http.request(method, path, headers=headers, **options)
        assert response.status_code == 404, (method, path, response.status_code, response.text)
    listed = await http.get("/webhooks", headers=bearer(token_b))
    assert listed.status_code == 200
    assert listed.json()["endpoints"] == []
    subscriptions = await http.get("/fhir/Subscription", headers=bearer(token_b))
    assert subscriptions.status_code == 200
    assert s not in subscriptions.text

    after = await _owned_after(http, token_a, owned)
    assert after == (owned["endpoint"], owned["subscription"])


async def _owned_after(
    http: httpx.AsyncClient, token: str, owned: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    headers = bearer(token)
    endpoint = (await http.get(f"/webhooks/{owned['endpoint_id']}", headers=headers)).json()
    found = (await http.get(f"/fhir/Subscription/{owned['subscription_id']}", headers=headers)).json()
    deliveries = (await http.get(f"/webhooks/{owned['endpoint_id']}/deliveries", headers=headers)).json()
    assert _delivery_ids(deliveries) == [owned["delivery_id"]]  # no redelivery, no second ping
    return endpoint, found
