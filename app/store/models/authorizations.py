"""The lifecycle's tables: one row per prior-auth request and what hangs off it.

authorizations             one request (client, payer, member, provider, kind, priority, status,
                           clocks, version, the request's bytes and typed form, the latest response)
authorization_items        its service lines by item.sequence, each with the payer's decision
authorization_identifiers  the patient's identifiers and the member id, for `patient.identifier` search
events                     the timeline: every transition and notable fact
authorization_usage        units (or visits) used of an authorized item, one row per report
coverage_assertions        CRD coverage-information answers, linked to the $submit that carries them
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain import bounds
from app.domain.codes import PAYER_ERROR_EVENTS, AuthorizationKind, AuthorizationStatus, Priority
from app.store.models.base import Base, BigIntId, QuantityNumeric
from app.store.types import UTCDateTime, enum_column

# the partial index of the payer errors in the timeline (migration 0022 wrote the same list)
PAYER_ERRORS_SQL = "type IN (" + ", ".join(f"'{kind}'" for kind in PAYER_ERROR_EVENTS) + ")"


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
        # The CMS-0057-F report reads one period (migration 0021): its cost follows the period, not the history.
        Index("ix_authorizations_received", "received_at"),
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
    __table_args__ = (
        Index("ix_events_authorization_id_id", "authorization_id", "id"),
        # the payer errors alone (the operations' "needs attention" starts from them; migration 0022)
        Index(
            "ix_events_payer_errors",
            "authorization_id",
            "id",
            postgresql_where=text(PAYER_ERRORS_SQL),
            sqlite_where=text(PAYER_ERRORS_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    authorization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("authorizations.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(bounds.CLIENT_ID_LENGTH))
    type: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    from_status: Mapped[AuthorizationStatus | None] = mapped_column(enum_column(AuthorizationStatus, 32))
    to_status: Mapped[AuthorizationStatus | None] = mapped_column(enum_column(AuthorizationStatus, 32))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


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
