"""authorization_usage: units (or visits) used of an authorized item, one row per report

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-01 14:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "authorization_usage",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("authorization_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.String(length=128), nullable=False),
        sa.Column("item_sequence", sa.Integer(), nullable=False),
        sa.Column("units", sa.Numeric(precision=12, scale=3), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reference", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["authorization_id"],
            ["authorizations.id"],
            name=op.f("fk_authorization_usage_authorization_id_authorizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authorization_usage")),
        sa.UniqueConstraint("authorization_id", "reference", name="uq_authorization_usage_reference"),
    )
    op.create_index(
        "ix_authorization_usage_authorization_id", "authorization_usage", ["authorization_id", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_authorization_usage_authorization_id", table_name="authorization_usage")
    op.drop_table("authorization_usage")
