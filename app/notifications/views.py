"""What the notifications room hands the edges (HTTP, console, CLI): frozen read objects, never table rows.

The edges render these (JSON, HTML, tables) and never reach the store. A signing secret appears
in plain text only in `WebhookEndpointWithSecret`, the answer to an endpoint's creation or a
secret's rotation; no view carries the stored (sealed) secret.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.fhir.subscription import masked_headers
from app.store.models import FhirSubscription, WebhookAttempt, WebhookDelivery, WebhookEndpoint


@dataclass(frozen=True, slots=True)
class WebhookEndpointView:
    id: uuid.UUID
    client_id: str
    url: str
    event_types: list[str]
    description: str | None
    enabled: bool
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: WebhookEndpoint) -> WebhookEndpointView:
        return cls(
            id=row.id,
            client_id=row.client_id,
            url=row.url,
            event_types=list(row.event_types),
            description=row.description,
            enabled=row.enabled,
            disabled_reason=row.disabled_reason,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


@dataclass(frozen=True, slots=True)
class WebhookEndpointWithSecret:
    """An endpoint and its current signing secret in plain text: shown once, then never again."""

    endpoint: WebhookEndpointView
    secret: str
    previous_secret_valid_until: datetime | None


@dataclass(frozen=True, slots=True)
class WebhookAttemptView:
    at: datetime
    status_code: int | None
    latency_ms: int
    error: str | None

    @classmethod
    def of(cls, row: WebhookAttempt) -> WebhookAttemptView:
        return cls(at=row.at, status_code=row.status_code, latency_ms=row.latency_ms, error=row.error)


@dataclass(frozen=True, slots=True)
class WebhookDeliveryView:
    """One delivery; `message_id` is its `webhook-id`. `attempt_log` is filled only when asked for."""

    id: int
    endpoint_id: uuid.UUID
    message_id: str
    event_type: str
    authorization_id: uuid.UUID | None
    state: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    payload: dict[str, Any]
    attempt_log: list[WebhookAttemptView] | None = None

    @classmethod
    def of(cls, row: WebhookDelivery, attempts: list[WebhookAttempt] | None = None) -> WebhookDeliveryView:
        return cls(
            id=row.id,
            endpoint_id=row.endpoint_id,
            message_id=row.message_id,
            event_type=row.event_type,
            authorization_id=row.authorization_id,
            state=row.state,
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at,
            last_status_code=row.last_status_code,
            last_error=row.last_error,
            created_at=row.created_at,
            delivered_at=row.delivered_at,
            payload=row.payload,
            attempt_log=[WebhookAttemptView.of(a) for a in attempts] if attempts is not None else None,
        )


@dataclass(frozen=True, slots=True)
class SubscriptionView:
    """A Subscription as stored: the resource the client sent, and the state the hub keeps beside it."""

    id: uuid.UUID
    client_id: str
    status: str
    error: str | None
    version: int
    events_since_start: int
    updated_at: datetime
    resource: dict[str, Any]

    @classmethod
    def of(cls, row: FhirSubscription) -> SubscriptionView:
        return cls(
            id=row.id,
            client_id=row.client_id,
            status=row.status,
            error=row.error,
            version=row.version,
            events_since_start=row.events_since_start,
            updated_at=row.updated_at,
            resource=masked_headers(row.resource),  # rows stored before headers were masked at rest
        )


@dataclass(frozen=True, slots=True)
class EndpointHealth:
    """How an endpoint is really doing: `failing` while its latest attempts fail, whatever `enabled` says."""

    endpoint: WebhookEndpointView
    last_success_at: datetime | None
    consecutive_failures: int  # failed attempts since the last successful one
    pending: int

    @property
    def failing(self) -> bool:
        return self.consecutive_failures > 0
