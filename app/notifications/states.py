"""The words the notification tables hold: a delivery row's state, a Subscription's status, a notification's kind.

A webhook delivery and a Subscription notification share the delivery states: `pending` until it
settles as `delivered`, `failed` (retries spent, or a refusal no retry can mend) or `skipped`
(its target stopped taking deliveries).
"""

from __future__ import annotations

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"
SKIPPED = "skipped"

# Subscription statuses (R4 backport): a handshake makes a `requested` one `active`.
REQUESTED, ACTIVE, ERROR, OFF = "requested", "active", "error", "off"
LIVE = (REQUESTED, ACTIVE, ERROR)  # the statuses that still receive events

# Subscription notification kinds (the SubscriptionStatus `type`).
HANDSHAKE, HEARTBEAT, EVENT = "handshake", "heartbeat", "event-notification"
