"""The outbound notification tables: webhooks and FHIR Subscriptions, with their delivery state.

webhook_endpoints           a client's receivers: URL, event types, sealed signing secrets
webhook_deliveries          one event for one endpoint (the `webhook-id`), and its delivery state
webhook_attempts            every HTTP attempt of a delivery: status code, latency, error
fhir_subscriptions          R4 backport Subscriptions on the PAS topic (rest-hook), per client
subscription_notifications  one handshake, heartbeat or event notification, and its delivery state
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.domain import bounds
from app.store.models.base import Base, BigIntId
from app.store.types import UTCDateTime


class WebhookEndpoint(Base):
    """A client's webhook receiver: URL, event types, signing secret (and the previous one during rotation)."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (Index("ix_webhook_endpoints_client_created", "client_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    client_id: Mapped[str] = mapped_column(String(bounds.CLIENT_ID_LENGTH))
    url: Mapped[str] = mapped_column(String(bounds.URL_LENGTH))
    event_types: Mapped[list[str]] = mapped_column(JSON)
    description: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(256))
    # Fernet-encrypted "whsec_..." (app.notifications.secret_box; never logged)
    secret: Mapped[str] = mapped_column(String(bounds.SEALED_SECRET_LENGTH))
    previous_secret: Mapped[str | None] = mapped_column(String(bounds.SEALED_SECRET_LENGTH))
    previous_secret_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DeliveryState:
    """The delivery columns a webhook delivery and a Subscription notification share."""

    state: Mapped[str] = mapped_column(String(16))  # pending | delivered | failed | skipped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    job_id: Mapped[int | None] = mapped_column(BigInteger)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebhookDelivery(DeliveryState, Base):
    """One event for one endpoint; `message_id` is the `webhook-id`, the same on every attempt."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_endpoint_authorization", "endpoint_id", "authorization_id", "event_seq"),
        Index("ix_webhook_deliveries_endpoint_id", "endpoint_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    endpoint_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(bounds.CLIENT_ID_LENGTH))
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    event_type: Mapped[str] = mapped_column(String(64))
    authorization_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    event_seq: Mapped[int | None] = mapped_column(BigInteger)  # the fan-out job's id: event order per authorization
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookAttempt(Base):
    """One HTTP attempt of a delivery: status code (None on a transport error), latency, error."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_delivery_id", "delivery_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)


class FhirSubscription(Base):
    """An R4 backport Subscription on the PAS topic (rest-hook), owned by one client."""

    __tablename__ = "fhir_subscriptions"
    __table_args__ = (Index("ix_fhir_subscriptions_client_status", "client_id", "status"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    client_id: Mapped[str] = mapped_column(String(bounds.CLIENT_ID_LENGTH))
    status: Mapped[str] = mapped_column(String(16))  # requested | active | error | off
    topic: Mapped[str] = mapped_column(String(bounds.TOPIC_LENGTH))
    # "system|value" or "value"
    org_identifier: Mapped[str | None] = mapped_column(String(bounds.IDENTIFIER_KEY_LENGTH))
    endpoint: Mapped[str] = mapped_column(String(bounds.URL_LENGTH))
    content: Mapped[str] = mapped_column(String(16))  # empty | id-only | full-resource
    content_type: Mapped[str] = mapped_column(String(64))
    headers: Mapped[list[str]] = mapped_column(JSON)
    heartbeat_seconds: Mapped[int | None] = mapped_column(Integer)
    end_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    events_since_start: Mapped[int] = mapped_column(BigInteger, default=0)
    resource: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SubscriptionNotification(DeliveryState, Base):
    """One notification (handshake, heartbeat or event) for one subscription, and its delivery state."""

    __tablename__ = "subscription_notifications"
    __table_args__ = (
        Index(
            "ix_subscription_notifications_subscription_authorization",
            "subscription_id",
            "authorization_id",
            "event_seq",
        ),
        Index("ix_subscription_notifications_subscription_id", "subscription_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    subscription_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("fhir_subscriptions.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(bounds.CLIENT_ID_LENGTH))
    kind: Mapped[str] = mapped_column(String(24))  # handshake | heartbeat | event-notification
    event_number: Mapped[int | None] = mapped_column(BigInteger)
    event_type: Mapped[str | None] = mapped_column(String(64))
    authorization_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    event_seq: Mapped[int | None] = mapped_column(BigInteger)  # the fan-out job's id: event order per authorization
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
