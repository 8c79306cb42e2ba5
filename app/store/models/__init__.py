"""The tables of the lifecycle: authorizations, their items, their timeline events, and jobs."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from app.domain import bounds
from app.domain.codes import AuthorizationKind, AuthorizationStatus, Priority
from app.store.types import UTCDateTime, enum_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT identity on PostgreSQL, INTEGER (rowid alias) on SQLite.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")
QuantityNumeric = Numeric(bounds.QUANTITY_PRECISION, bounds.QUANTITY_SCALE)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Authorization(Base):
    """One prior-auth request from one client for one patient to one payer."""

    __tablename__ = "authorizations"
    __table_args__ = (
        UniqueConstraint("client_id", "bundle_identifier", name="uq_authorizations_client_bundle"),
        Index("ix_authorizations_client_claim", "client_id", "claim_identifier"),
        Index("ix_authorizations_client_status_updated", "client_id", "status", "updated_at", "id"),
        Index("ix_authorizations_client_updated", "client_id", "updated_at", "id"),
        Index("ix_authorizations_member_provider", "patient_member_id", "provider_identifier"),
        Index("ix_authorizations_payer_status", "payer_id", "status"),
        Index("ix_authorizations_open_due", "status", "due_at"),
        Index("ix_authorizations_expires", "expires_at"),
        # Operations worklists (migration 0005): each filter walks an index in (updated_at, id) order.
        Index("ix_authorizations_client_payer_updated", "client_id", "payer_id", "updated_at", "id"),
        Index("ix_authorizations_client_provider_updated", "client_id", "provider_identifier", "updated_at", "id"),
        Index("ix_authorizations_client_status_due", "client_id", "status", "due_at"),
        Index("ix_authorizations_client_expires", "client_id", "expires_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    client_id: Mapped[str] = mapped_column(String(bounds.CLIENT_ID_LENGTH))
    payer_id: Mapped[str] = mapped_column(String(128))
    bundle_identifier: Mapped[str] = mapped_column(String(bounds.IDENTIFIER_KEY_LENGTH))  # "system|value"
    # "system|value" of the first Claim identifier
    claim_identifier: Mapped[str] = mapped_column(String(bounds.IDENTIFIER_KEY_LENGTH))
    patient_member_id: Mapped[str | None] = mapped_column(String(bounds.MEMBER_ID_LENGTH))
    provider_identifier: Mapped[str | None] = mapped_column(String(bounds.PROVIDER_KEY_LENGTH))
    kind: Mapped[AuthorizationKind] = mapped_column(enum_column(AuthorizationKind, 32))
    priority: Mapped[Priority] = mapped_column(enum_column(Priority, 16))
    status: Mapped[AuthorizationStatus] = mapped_column(enum_column(AuthorizationStatus, 32))
    preauth_ref: Mapped[str | None] = mapped_column(String(bounds.PREAUTH_REF_LENGTH))
    payer_reference: Mapped[str | None] = mapped_column(String(bounds.PAYER_REFERENCE_LENGTH))
    replaces_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("authorizations.id"))
    replaced_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    extends_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)  # bumped on every change (ETag)
    request_hash: Mapped[str] = mapped_column(String(64))  # sha-256 of the canonical JSON of the request Bundle
    request_document: Mapped[bytes] = mapped_column(LargeBinary)
    request_form: Mapped[bytes | None] = mapped_column(LargeBinary)  # the typed request as JSON (validate once)
    response_document: Mapped[bytes | None] = mapped_column(LargeBinary)
    response_status: Mapped[int] = mapped_column(Integer, default=200)  # HTTP status the response went with
    # An open information request (migration 0009): its due time, and what the payer asked for
    info_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    info_request: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    items: Mapped[list[AuthorizationItem]] = relationship(
        back_populates="authorization", order_by="AuthorizationItem.sequence", cascade="all, delete-orphan"
    )


class AuthorizationItem(Base):
    """One service line, keyed by the request's item.sequence."""

    __tablename__ = "authorization_items"
    __table_args__ = (UniqueConstraint("authorization_id", "sequence", name="uq_authorization_items_sequence"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    authorization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("authorizations.id", ondelete="CASCADE"))
    sequence: Mapped[int] = mapped_column(Integer)
    product_system: Mapped[str | None] = mapped_column(String(bounds.CODE_SYSTEM_LENGTH))
    product_code: Mapped[str] = mapped_column(String(bounds.CODE_LENGTH), index=True)
    quantity: Mapped[Decimal | None] = mapped_column(QuantityNumeric)
    serviced_start: Mapped[date | None] = mapped_column(Date)
    serviced_end: Mapped[date | None] = mapped_column(Date)
    cancelled: Mapped[bool] = mapped_column(default=False)
    decision_code: Mapped[str | None] = mapped_column(String(8))
    reason_codes: Mapped[list[str] | None] = mapped_column(JSON)  # "system|code"
    reason_text: Mapped[str | None] = mapped_column(Text)
    authorization_number: Mapped[str | None] = mapped_column(String(bounds.PREAUTH_REF_LENGTH))
    authorized_quantity: Mapped[Decimal | None] = mapped_column(QuantityNumeric)
    authorized_start: Mapped[date | None] = mapped_column(Date)
    authorized_end: Mapped[date | None] = mapped_column(Date)
    # A6: the service authorized instead
    authorized_code: Mapped[str | None] = mapped_column(String(bounds.CODE_LENGTH))
    units_used: Mapped[Decimal | None] = mapped_column(QuantityNumeric)

    authorization: Mapped[Authorization] = relationship(back_populates="items")


class AuthorizationIdentifier(Base):
    """An identifier of the authorization's patient, for token search: a Patient identifier or the member id."""

    __tablename__ = "authorization_identifiers"
    __table_args__ = (
        # (client, value): every search names the value; at most 128 + 511 characters, within a btree row
        Index("ix_authorization_identifiers_client_value", "client_id", "value"),
        Index("ix_authorization_identifiers_authorization_id", "authorization_id"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    authorization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("authorizations.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(bounds.CLIENT_ID_LENGTH))
    role: Mapped[str] = mapped_column(String(16))  # patient | member
    system: Mapped[str | None] = mapped_column(String(bounds.IDENTIFIER_KEY_LENGTH))  # None: no system
    value: Mapped[str] = mapped_column(String(bounds.IDENTIFIER_KEY_LENGTH))


class Event(Base):
    """One entry of an authorization's timeline (every transition and notable fact)."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_authorization_id_id", "authorization_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    authorization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("authorizations.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(bounds.CLIENT_ID_LENGTH))
    type: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    from_status: Mapped[AuthorizationStatus | None] = mapped_column(enum_column(AuthorizationStatus, 32))
    to_status: Mapped[AuthorizationStatus | None] = mapped_column(enum_column(AuthorizationStatus, 32))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Job(Base):
    """A unit of background work, written in the same transaction as the change it follows."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_state_run_at", "state", "run_at"),
        Index("ix_jobs_state_lease", "state", "lease_until"),
        Index("ix_jobs_authorization_id", "authorization_id"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))  # queued | running | done | dead
    client_id: Mapped[str | None] = mapped_column(String(bounds.CLIENT_ID_LENGTH))
    authorization_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    run_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=20)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_by: Mapped[str | None] = mapped_column(String(128))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ClientRegistration(Base):
    """A registered SMART Backend Services client: its keys (inline JWKS or a URL) and allowed scopes."""

    __tablename__ = "client_registrations"

    client_id: Mapped[str] = mapped_column(String(bounds.CLIENT_ID_LENGTH), primary_key=True)
    jwks: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    jwks_url: Mapped[str | None] = mapped_column(String(2048))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    admin: Mapped[bool] = mapped_column(default=False)
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class UsedAssertion(Base):
    """A client assertion's `jti`, kept until the assertion expires so it is never accepted twice."""

    __tablename__ = "used_assertions"
    __table_args__ = (UniqueConstraint("client_id", "jti", name="uq_used_assertions_client_jti"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(String(bounds.CLIENT_ID_LENGTH))
    jti: Mapped[str] = mapped_column(String(256))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class AuditRecord(Base):
    """Who did what to which resources, when, with what outcome. Ids and codes only: never PHI."""

    __tablename__ = "audit_records"
    __table_args__ = (
        Index("ix_audit_records_client_id", "client_id", "id"),
        Index("ix_audit_records_operation_id", "operation", "id"),
        Index("ix_audit_records_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    client_id: Mapped[str] = mapped_column(String(bounds.CLIENT_ID_LENGTH))
    operation: Mapped[str] = mapped_column(String(64))
    resource_type: Mapped[str | None] = mapped_column(String(64))
    resource_ids: Mapped[list[str]] = mapped_column(JSON)
    outcome: Mapped[int] = mapped_column(Integer)  # the HTTP status answered
    request_id: Mapped[str | None] = mapped_column(String(128))


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


class CoverageAssertion(Base):
    """A CRD coverage-information answer (`coverage-assertion-id`), linked to the $submit that later carries it."""

    __tablename__ = "coverage_assertions"
    __table_args__ = (
        Index("ix_coverage_assertions_client_created", "client_id", "created_at"),
        Index("ix_coverage_assertions_authorization_id", "authorization_id"),
    )

    # the coverage-assertion-id
    id: Mapped[str] = mapped_column(String(bounds.COVERAGE_ASSERTION_ID_LENGTH), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(bounds.CLIENT_ID_LENGTH))
    payer_id: Mapped[str] = mapped_column(String(128))
    hook: Mapped[str] = mapped_column(String(32))
    order_reference: Mapped[str | None] = mapped_column(String(bounds.ORDER_REFERENCE_LENGTH))
    product_system: Mapped[str | None] = mapped_column(String(bounds.CODE_SYSTEM_LENGTH))
    product_code: Mapped[str] = mapped_column(String(bounds.CODE_LENGTH))
    covered: Mapped[str] = mapped_column(String(16))
    pa_needed: Mapped[str | None] = mapped_column(String(16))
    doc_needed: Mapped[str | None] = mapped_column(String(16))
    rule_id: Mapped[str | None] = mapped_column(String(64))
    rules_version: Mapped[str | None] = mapped_column(String(64))
    satisfied_pa_id: Mapped[str | None] = mapped_column(String(bounds.PREAUTH_REF_LENGTH))
    authorization_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    linked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuthorizationUsage(Base):
    """Units (or visits) used of one authorized item: one row per report (JSON route or FHIR ChargeItem)."""

    __tablename__ = "authorization_usage"
    __table_args__ = (
        Index("ix_authorization_usage_authorization_id", "authorization_id", "id"),
        UniqueConstraint("authorization_id", "reference", name="uq_authorization_usage_reference"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    authorization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("authorizations.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(bounds.CLIENT_ID_LENGTH))
    item_sequence: Mapped[int] = mapped_column(Integer)
    units: Mapped[Decimal] = mapped_column(QuantityNumeric)
    service_date: Mapped[date | None] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # the client's id of the report (a visit, a claim line, a ChargeItem identifier): sent again, not counted again
    reference: Mapped[str | None] = mapped_column(String(bounds.USAGE_REFERENCE_LENGTH))


class Appeal(Base):
    """An appeal of an authorization's decision: its channel, reason, deadline and the payer's outcome."""

    __tablename__ = "appeals"
    __table_args__ = (
        Index("ix_appeals_authorization_submitted", "authorization_id", "submitted_at"),
        UniqueConstraint("client_id", "request_identifier", name="uq_appeals_client_request"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    authorization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("authorizations.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(bounds.CLIENT_ID_LENGTH))
    channel: Mapped[str] = mapped_column(String(16))  # pas-update | operations
    expedited: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str | None] = mapped_column(String(bounds.APPEAL_REASON_LENGTH))
    appealed_status: Mapped[AuthorizationStatus] = mapped_column(enum_column(AuthorizationStatus, 32))
    outcome: Mapped[str | None] = mapped_column(String(16))  # approved | denied; None while the payer reviews
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    payer_reference: Mapped[str | None] = mapped_column(String(bounds.PAYER_REFERENCE_LENGTH))
    peer_to_peer: Mapped[str | None] = mapped_column(String(16))  # requested | held, as the payer last said
    # PAS: "system|value" of the appealing update's Bundle identifier (the same Bundle again is a replay)
    request_identifier: Mapped[str | None] = mapped_column(String(bounds.IDENTIFIER_KEY_LENGTH))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    documents: Mapped[list[AppealDocument]] = relationship(
        back_populates="appeal", order_by="AppealDocument.id", cascade="all, delete-orphan"
    )


class AppealDocument(Base):
    """A document sent with an appeal (size-limited, content hashed; never logged)."""

    __tablename__ = "appeal_documents"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    appeal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("appeals.id", ondelete="CASCADE"), index=True)
    content_type: Mapped[str] = mapped_column(String(bounds.APPEAL_DOCUMENT_TYPE_LENGTH))
    title: Mapped[str | None] = mapped_column(String(bounds.APPEAL_DOCUMENT_TITLE_LENGTH))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)

    appeal: Mapped[Appeal] = relationship(back_populates="documents")


class Attachment(Base):
    """A document the provider sent for an authorization (CDex `$submit-attachment`), stored once by hash."""

    __tablename__ = "attachments"
    __table_args__ = (
        UniqueConstraint("authorization_id", "sha256", name="uq_attachments_authorization_sha256"),
        Index("ix_attachments_client_received", "client_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    authorization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("authorizations.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(bounds.CLIENT_ID_LENGTH))
    resource_type: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(128))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    forwarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
