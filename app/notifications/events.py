"""Authorization events and how they enter the outbox.

`publish` (or its synchronous twin `enqueue_event`, for callers that are not coroutines) adds ONE
`notifications.fan_out` job to the caller's unit of work, carrying a snapshot of the event: type,
time, status, item decisions. It exists only if the caller commits, together with the status
change it follows (transactional outbox). The fan-out job later writes one delivery per matching
webhook endpoint and one notification per matching FHIR Subscription, each with its own job.

The snapshot holds identifiers the client already owns and codes, never PHI (no names, birth
dates or member ids).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.jobs import repository as jobs
from app.notifications.queries import loaded_items
from app.store.models import Authorization, AuthorizationItem, Job

FAN_OUT = "notifications.fan_out"
WEBHOOK_DELIVER = "webhook.deliver"
SUBSCRIPTION_NOTIFY = "subscription.notify"
SUBSCRIPTION_HEARTBEAT = "subscription.heartbeat"

WILDCARD = "*"
PING = "webhook.ping"
EVENT_TYPES = frozenset(
    f"authorization.{name}"
    for name in (
        "received",
        "pended",
        "approved",
        "partially-approved",
        "modified",
        "denied",
        "cancelled",
        "expiring",
        "expired",
        "overdue",
        "not-required",
        "error",
        "exhausting",
        "exhausted",
        "appeal-submitted",
        "appeal-approved",
        "appeal-denied",
        "appeal-overdue",
        "peer-to-peer-requested",
        "peer-to-peer-held",
        "info-requested",  # the payer asks for documents (PAS communicationRequest / CDex Task)
        "info-overdue",  # the documents it asked for are past their due time
    )
)
"""Event types an endpoint may subscribe to (besides `*`)."""


def event_type_for(status: str) -> str:
    """The event type of a transition into `status` (`authorization.<status>`)."""
    return f"authorization.{status}"


def item_snapshot(item: AuthorizationItem) -> dict[str, Any]:
    """One item's decision, as codes and the payer's authorization number."""
    snapshot: dict[str, Any] = {"sequence": item.sequence, "decision": item.decision_code, "cancelled": item.cancelled}
    if item.authorization_number:
        snapshot["authorization_number"] = item.authorization_number
    if item.reason_codes:
        snapshot["reason_codes"] = list(item.reason_codes)
    return snapshot


def snapshot(authorization: Authorization, event_type: str, *, now: datetime) -> dict[str, Any]:
    """The event as the fan-out job's payload (items only when they are loaded: no lazy load here)."""
    data: dict[str, Any] = {
        "event_type": event_type,
        "occurred_at": now.isoformat(),
        "status": authorization.status,
        "version": authorization.version,
        "preauth_ref": authorization.preauth_ref,
        "claim_identifier": authorization.claim_identifier,
    }
    items = loaded_items(authorization)
    if items is not None:
        data["items"] = [item_snapshot(item) for item in items]
    return data


def enqueue_event(session: AsyncSession, authorization: Authorization, event_type: str, *, now: datetime) -> Job:
    """Add the event's fan-out job to the caller's transaction (synchronous: no I/O happens here)."""
    return jobs.enqueue(
        session,
        FAN_OUT,
        snapshot(authorization, event_type, now=now),
        now=now,
        client_id=authorization.client_id,
        authorization_id=authorization.id,
    )


async def publish(session: AsyncSession, authorization: Authorization, event_type: str, *, now: datetime) -> None:
    """Publish an authorization event to the client's webhooks and Subscriptions, in the caller's transaction."""
    enqueue_event(session, authorization, event_type, now=now)
