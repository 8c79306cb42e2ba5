"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26 19:02:55.450554
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "authorizations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.String(length=128), nullable=False),
        sa.Column("payer_id", sa.String(length=128), nullable=False),
        sa.Column("bundle_identifier", sa.String(length=512), nullable=False),
        sa.Column("claim_identifier", sa.String(length=512), nullable=False),
        sa.Column("patient_member_id", sa.String(length=256), nullable=True),
        sa.Column("provider_identifier", sa.String(length=256), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("preauth_ref", sa.String(length=128), nullable=True),
        sa.Column("payer_reference", sa.String(length=256), nullable=True),
        sa.Column("replaces_id", sa.Uuid(), nullable=True),
        sa.Column("replaced_by_id", sa.Uuid(), nullable=True),
        sa.Column("extends_id", sa.Uuid(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("request_document", sa.LargeBinary(), nullable=False),
        sa.Column("response_document", sa.LargeBinary(), nullable=True),
        sa.Column("response_status", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["replaces_id"], ["authorizations.id"], name=op.f("fk_authorizations_replaces_id_authorizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authorizations")),
        sa.UniqueConstraint("client_id", "bundle_identifier", name="uq_authorizations_client_bundle"),
    )
    with op.batch_alter_table("authorizations", schema=None) as batch_op:
        batch_op.create_index("ix_authorizations_client_claim", ["client_id", "claim_identifier"], unique=False)
        batch_op.create_index(
            "ix_authorizations_client_status_updated", ["client_id", "status", "updated_at", "id"], unique=False
        )
        batch_op.create_index("ix_authorizations_client_updated", ["client_id", "updated_at", "id"], unique=False)
        batch_op.create_index("ix_authorizations_expires", ["expires_at"], unique=False)
        batch_op.create_index(
            "ix_authorizations_member_provider", ["patient_member_id", "provider_identifier"], unique=False
        )
        batch_op.create_index("ix_authorizations_open_due", ["status", "due_at"], unique=False)
        batch_op.create_index("ix_authorizations_payer_status", ["payer_id", "status"], unique=False)

    op.create_table(
        "jobs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("client_id", sa.String(length=128), nullable=True),
        sa.Column("authorization_id", sa.Uuid(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_by", sa.String(length=128), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_authorization_id", ["authorization_id"], unique=False)
        batch_op.create_index("ix_jobs_state_lease", ["state", "lease_until"], unique=False)
        batch_op.create_index("ix_jobs_state_run_at", ["state", "run_at"], unique=False)

    op.create_table(
        "authorization_items",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("authorization_id", sa.Uuid(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("product_system", sa.String(length=256), nullable=True),
        sa.Column("product_code", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=12, scale=3), nullable=True),
        sa.Column("serviced_start", sa.Date(), nullable=True),
        sa.Column("serviced_end", sa.Date(), nullable=True),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("decision_code", sa.String(length=8), nullable=True),
        sa.Column("reason_codes", sa.JSON(), nullable=True),
        sa.Column("reason_text", sa.Text(), nullable=True),
        sa.Column("authorization_number", sa.String(length=128), nullable=True),
        sa.Column("authorized_quantity", sa.Numeric(precision=12, scale=3), nullable=True),
        sa.Column("authorized_start", sa.Date(), nullable=True),
        sa.Column("authorized_end", sa.Date(), nullable=True),
        sa.Column("authorized_code", sa.String(length=64), nullable=True),
        sa.Column("units_used", sa.Numeric(precision=12, scale=3), nullable=True),
        sa.ForeignKeyConstraint(
            ["authorization_id"],
            ["authorizations.id"],
            name=op.f("fk_authorization_items_authorization_id_authorizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authorization_items")),
        sa.UniqueConstraint("authorization_id", "sequence", name="uq_authorization_items_sequence"),
    )
    with op.batch_alter_table("authorization_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_authorization_items_product_code"), ["product_code"], unique=False)

    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("authorization_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.String(length=128), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["authorization_id"],
            ["authorizations.id"],
            name=op.f("fk_events_authorization_id_authorizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_authorization_id_id", ["authorization_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_authorization_id_id")

    op.drop_table("events")
    with op.batch_alter_table("authorization_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_authorization_items_product_code"))

    op.drop_table("authorization_items")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_state_run_at")
        batch_op.drop_index("ix_jobs_state_lease")
        batch_op.drop_index("ix_jobs_authorization_id")

    op.drop_table("jobs")
    with op.batch_alter_table("authorizations", schema=None) as batch_op:
        batch_op.drop_index("ix_authorizations_payer_status")
        batch_op.drop_index("ix_authorizations_open_due")
        batch_op.drop_index("ix_authorizations_member_provider")
        batch_op.drop_index("ix_authorizations_expires")
        batch_op.drop_index("ix_authorizations_client_updated")
        batch_op.drop_index("ix_authorizations_client_status_updated")
        batch_op.drop_index("ix_authorizations_client_claim")

    op.drop_table("authorizations")
