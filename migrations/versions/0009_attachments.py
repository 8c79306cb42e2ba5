"""attachments: documents a payer asked for (CDex), and the open information request of an authorization

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 14:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("authorizations") as batch:
        batch.add_column(sa.Column("info_due_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("info_request", sa.JSON(), nullable=True))
    op.create_table(
        "attachments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("authorization_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.String(length=128), nullable=False),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=128), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("forwarded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["authorization_id"],
            ["authorizations.id"],
            name=op.f("fk_attachments_authorization_id_authorizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
        sa.UniqueConstraint("authorization_id", "sha256", name="uq_attachments_authorization_sha256"),
    )
    op.create_index("ix_attachments_client_received", "attachments", ["client_id", "received_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_attachments_client_received", table_name="attachments")
    op.drop_table("attachments")
    with op.batch_alter_table("authorizations") as batch:
        batch.drop_column("info_request")
        batch.drop_column("info_due_at")
