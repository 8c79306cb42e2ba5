"""FHIR Subscriptions on the PAS topic from the client's side: the resource, creating it, reading a
notification's status Parameters."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.parameters import Parameters

from app.fhir.subscription import PAS_TOPIC, PAYLOAD_CONTENT
from tests.support.pas import FHIR_JSON


def subscription(endpoint: str, content: str = "full-resource", **extra: Any) -> dict[str, Any]:
    """A requested rest-hook Subscription to the PAS topic for `endpoint` (payload content `content`,
    `extra` keys replacing the resource's), sending `Authorization: Bearer receiver-token`."""
    resource: dict[str, Any] = {
        "resourceType": "Subscription",
        "status": "requested",
        "reason": "PAS decisions",
        "criteria": PAS_TOPIC,
        "channel": {
            "type": "rest-hook",
            "endpoint": endpoint,
            "payload": "application/fhir+json",
            "_payload": {"extension": [{"url": PAYLOAD_CONTENT, "valueCode": content}]},
            "header": ["Authorization: Bearer receiver-token"],
        },
    }
    resource.update(extra)
    return resource


def status_parameters(bundle: dict[str, Any]) -> dict[str, Any]:
    """The SubscriptionStatus parameters of a notification (or $status) Bundle, by name; both resources
    are validated as R4B on the way."""
    Bundle.model_validate(bundle)
    status = bundle["entry"][0]["resource"]
    Parameters.model_validate(status)
    return {p["name"]: p for p in status["parameter"]}


async def create_subscription(client: httpx.AsyncClient, resource: dict[str, Any]) -> httpx.Response:
    """POST /fhir/Subscription with `resource`."""
    return await client.post("/fhir/Subscription", content=orjson.dumps(resource), headers=FHIR_JSON)
