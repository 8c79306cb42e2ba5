"""coverage: CRD coverage assertions (coverage-assertion-id) and their link to a later $submit

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "coverage_assertions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=128), nullable=False),
        sa.Column("payer_id", sa.String(length=128), nullable=False),
        sa.Column("hook", sa.String(length=32), nullable=False),
        sa.Column("order_reference", sa.String(length=256), nullable=True),
        sa.Column("product_system", sa.String(length=256), nullable=True),
        sa.Column("product_code", sa.String(length=64), nullable=False),
        sa.Column("covered", sa.String(length=16), nullable=False),
        sa.Column("pa_needed", sa.String(length=16), nullable=True),
        sa.Column("doc_needed", sa.String(length=16), nullable=True),
        sa.Column("rule_id", sa.String(length=64), nullable=True),
        sa.Column("rules_version", sa.String(length=64), nullable=True),
        sa.Column("satisfied_pa_id", sa.String(length=128), nullable=True),
        sa.Column("authorization_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coverage_assertions")),
    )
    op.create_index(
        "ix_coverage_assertions_client_created", "coverage_assertions", ["client_id", "created_at"], unique=False
    )
    op.create_index(
        "ix_coverage_assertions_authorization_id", "coverage_assertions", ["authorization_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_coverage_assertions_authorization_id", table_name="coverage_assertions")
    op.drop_index("ix_coverage_assertions_client_created", table_name="coverage_assertions")
    op.drop_table("coverage_assertions")
