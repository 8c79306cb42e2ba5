"""Every statement on the notifications room's tables (adds, flushes, executes; never commits).

- `webhooks`: endpoints, deliveries and their attempts (scoped by client).
- `subscriptions`: FHIR Subscriptions and their notifications, and the notify job's claim.
- `ordering`: the per-endpoint / per-Subscription ordering checks of the delivery skeleton.
"""
