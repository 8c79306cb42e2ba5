"""Push notifications: signed webhooks (Standard Webhooks) and FHIR R4 Subscriptions on the PAS topic.

The room's face: what other rooms, the edges and the worker may call.
- `publish(session, authorization, event_type, now=...)` (or the synchronous `enqueue_event`) puts
  an event in the caller's transaction (outbox); `event_type_for(status)` names a transition.
- `handlers(deps)` (an `OutboundDeps`, e.g. the Runtime): the job kinds to register in the worker:
  `notifications.fan_out`, `webhook.deliver`, `subscription.notify`, `subscription.heartbeat`.
- `WebhookEndpoints`, `WebhookDeliveries`, `FhirSubscriptions`: what the API routes, the console
  and the CLI work with, scoped to a client; they answer views (`WebhookEndpointView`, ...), never
  table rows. `send_now` sends a new Subscription's handshake right after the request's commit.
- `reencrypt_secrets` and `SecretBox`: the signing secrets at rest, after a key rotation.

Delivery is at least once: a job per (event, target), in event order per target and
authorization, every attempt recorded; one delivery skeleton (`delivery.py`) serves both
channels. See docs/notifications.md.
"""

from __future__ import annotations

from app.jobs.contract import Handler
from app.notifications.context import OutboundDeps
from app.notifications.deliveries import MAX_PAGE, WebhookDeliveries
from app.notifications.endpoints import EndpointChanges, WebhookEndpoints, reencrypt_secrets
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
from app.notifications.secret_box import SecretBox
from app.notifications.subscription_jobs import send_now, subscription_heartbeat_handler, subscription_notify_handler
from app.notifications.subscriptions import FhirSubscriptions
from app.notifications.views import (
    SubscriptionView,
    WebhookAttemptView,
    WebhookDeliveryView,
    WebhookEndpointView,
    WebhookEndpointWithSecret,
)
from app.notifications.webhook_jobs import webhook_delivery_handler

__all__ = [
    "EVENT_TYPES",
    "FAN_OUT",
    "MAX_PAGE",
    "SUBSCRIPTION_HEARTBEAT",
    "SUBSCRIPTION_NOTIFY",
    "WEBHOOK_DELIVER",
    "EndpointChanges",
    "FhirSubscriptions",
    "OutboundDeps",
    "SecretBox",
    "SubscriptionView",
    "WebhookAttemptView",
    "WebhookDeliveries",
    "WebhookDeliveryView",
    "WebhookEndpointView",
    "WebhookEndpointWithSecret",
    "WebhookEndpoints",
    "enqueue_event",
    "event_type_for",
    "handlers",
    "publish",
    "reencrypt_secrets",
    "send_now",
]


def handlers(deps: OutboundDeps) -> dict[str, Handler]:
    """The notification job handlers, keyed by kind (for `app.worker.default_handlers`)."""
    return {
        FAN_OUT: fan_out_handler(deps),
        WEBHOOK_DELIVER: webhook_delivery_handler(deps),
        SUBSCRIPTION_NOTIFY: subscription_notify_handler(deps),
        SUBSCRIPTION_HEARTBEAT: subscription_heartbeat_handler(deps),
    }
