"""Push notifications: signed webhooks (Standard Webhooks) and FHIR R4 Subscriptions on the PAS topic.

- `publish(session, authorization, event_type, now=...)` (or the synchronous `enqueue_event`) puts
  an event in the caller's transaction (outbox); `event_type_for(status)` names a transition.
- `handlers(deps)` (an `OutboundDeps`, e.g. the Runtime): the job kinds to register in the worker:
  `notifications.fan_out`, `webhook.deliver`, `subscription.notify`, `subscription.heartbeat`.
- `WebhookEndpoints`, `WebhookDeliveries`, `FhirSubscriptions`: what the API routes work with.

Delivery is at least once: a job per (event, target), in event order per target and
authorization, every attempt recorded; see docs/notifications.md.
"""

from __future__ import annotations

from app.jobs.contract import Handler
from app.notifications.context import OutboundDeps
from app.notifications.events import (
    EVENT_TYPES,
    FAN_OUT,
    SUBSCRIPTION_HEARTBEAT,
    SUBSCRIPTION_NOTIFY,
    WEBHOOK_DELIVER,
    enqueue_event,
    event_type_for,
    publish,
)
from app.notifications.fanout import fan_out_handler
from app.notifications.subscription_jobs import subscription_heartbeat_handler, subscription_notify_handler
from app.notifications.webhook_jobs import webhook_delivery_handler

__all__ = [
    "EVENT_TYPES",
    "FAN_OUT",
    "SUBSCRIPTION_HEARTBEAT",
    "SUBSCRIPTION_NOTIFY",
    "WEBHOOK_DELIVER",
    "enqueue_event",
    "event_type_for",
    "handlers",
    "publish",
]


def handlers(deps: OutboundDeps) -> dict[str, Handler]:
    """The notification job handlers, keyed by kind (for `app.worker.default_handlers`)."""
    return {
        FAN_OUT: fan_out_handler(deps),
        WEBHOOK_DELIVER: webhook_delivery_handler(deps),
        SUBSCRIPTION_NOTIFY: subscription_notify_handler(deps),
        SUBSCRIPTION_HEARTBEAT: subscription_heartbeat_handler(deps),
    }
