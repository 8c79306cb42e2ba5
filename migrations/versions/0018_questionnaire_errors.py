"""questionnaire_errors: issues DTR clients logged about the payers' questionnaires (no PHI)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 12:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "questionnaire_errors",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("client_id", sa.String(length=128), nullable=False),
        sa.Column("questionnaires", sa.JSON(), nullable=False),
        sa.Column("issues", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questionnaire_errors")),
    )
    op.create_index(
        "ix_questionnaire_errors_client_received", "questionnaire_errors", ["client_id", "received_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_questionnaire_errors_client_received", table_name="questionnaire_errors")
    op.drop_table("questionnaire_errors")
