"""Subscription notifications (R4 backport): the SubscriptionStatus `Parameters` and the `history` Bundle.

A notification Bundle's first entry is the SubscriptionStatus (subscription, topic, status, type,
events-since-subscription-start, and one notification-event per event: event-number, timestamp,
focus). For `full-resource` the PAS response Bundle follows as the focus entry (and the event's
`focus` names that entry's fullUrl, so it resolves inside the notification); for `id-only` only
its reference (`fullUrl` of the ClaimResponse, the PAS 2.0.1 form); for `empty` nothing.
Plain dicts, serialized by the caller.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.fhir.subscription import BACKPORT, PAS_TOPIC

STATUS_PROFILE = BACKPORT + "backport-subscription-status-r4"
NOTIFICATION_PROFILE = BACKPORT + "backport-subscription-notification-r4"
NOTIFICATION_TYPES = ("handshake", "heartbeat", "event-notification", "query-status", "query-event")


@dataclass(frozen=True, slots=True)
class NotificationEvent:
    """One event in a notification: its number, when it happened, the ClaimResponse it is about."""

    number: int
    timestamp: datetime
    claim_response_id: str


def subscription_status(
    *,
    subscription_url: str,
    status: str,
    notification_type: str,
    events_since_start: int,
    events: list[NotificationEvent],
    base_url: str,
    error: str | None = None,
) -> dict[str, Any]:
    """The SubscriptionStatus `Parameters` resource (backport-subscription-status-r4)."""
    if notification_type not in NOTIFICATION_TYPES:
        raise ValueError(f"unknown notification type {notification_type!r}")
    parameters: list[dict[str, Any]] = [
        {"name": "subscription", "valueReference": {"reference": subscription_url}},
        {"name": "topic", "valueCanonical": PAS_TOPIC},
        {"name": "status", "valueCode": status},
        {"name": "type", "valueCode": notification_type},
        {"name": "events-since-subscription-start", "valueString": str(events_since_start)},
    ]
    for event in events:
        parameters.append(
            {
                "name": "notification-event",
                "part": [
                    {"name": "event-number", "valueString": str(event.number)},
                    {"name": "timestamp", "valueInstant": event.timestamp.isoformat()},
                    {"name": "focus", "valueReference": {"reference": _claim_response_url(base_url, event)}},
                ],
            }
        )
    if error:
        parameters.append({"name": "error", "valueCodeableConcept": {"text": error}})
    return {
        "resourceType": "Parameters",
        "id": str(uuid.uuid4()),
        "meta": {"profile": [STATUS_PROFILE]},
        "parameter": parameters,
    }


def _claim_response_url(base_url: str, event: NotificationEvent) -> str:
    return f"{base_url}/fhir/ClaimResponse/{event.claim_response_id}"


def notification_bundle(
    status: dict[str, Any],
    *,
    subscription_url: str,
    timestamp: datetime,
    content: str,
    base_url: str,
    events: list[NotificationEvent],
    response_bundle: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The `history` Bundle: the SubscriptionStatus first, then the focus (full resource or reference)."""
    focus_urls: dict[str, str] = {}
    entries: list[dict[str, Any]] = []
    for event in events:
        if content == "empty":
            break
        if content == "full-resource" and response_bundle is not None:
            bundle_id = str(uuid.uuid4())
            entry: dict[str, Any] = {"fullUrl": f"urn:uuid:{bundle_id}", "resource": response_bundle}
            focus_urls[_claim_response_url(base_url, event)] = entry["fullUrl"]
            entry["request"] = {"method": "POST", "url": "Bundle"}
        else:
            entry = {"fullUrl": _claim_response_url(base_url, event)}
            entry["request"] = {"method": "PUT", "url": f"ClaimResponse/{event.claim_response_id}"}
        entry["response"] = {"status": "200"}
        entries.append(entry)
    status_entry = {
        "fullUrl": f"urn:uuid:{status['id']}",
        "resource": _with_focus(status, focus_urls),
        "request": {"method": "GET", "url": f"{subscription_url}/$status"},
        "response": {"status": "200"},
    }
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"profile": [NOTIFICATION_PROFILE]},
        "type": "history",
        "timestamp": timestamp.isoformat(),
        "entry": [status_entry, *entries],
    }


def _with_focus(status: dict[str, Any], focus_urls: dict[str, str]) -> dict[str, Any]:
    """`status` with each notification-event `focus` pointing at the entry that carries it (when one does)."""
    if not focus_urls:
        return status
    parameters = []
    for parameter in status.get("parameter", []):
        if parameter.get("name") == "notification-event":
            parts = []
            for part in parameter.get("part", []):
                reference = part.get("valueReference", {}).get("reference")
                if part.get("name") == "focus" and reference in focus_urls:
                    part = {**part, "valueReference": {"reference": focus_urls[reference]}}
                parts.append(part)
            parameter = {**parameter, "part": parts}
        parameters.append(parameter)
    return {**status, "parameter": parameters}


def status_bundle(status: dict[str, Any], *, subscription_url: str) -> dict[str, Any]:
    """`Subscription/{id}/$status`: a searchset Bundle holding the SubscriptionStatus."""
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": 1,
        "entry": [
            {"fullUrl": f"urn:uuid:{status['id']}", "resource": status, "search": {"mode": "match"}},
        ],
        "link": [{"relation": "self", "url": f"{subscription_url}/$status"}],
    }
