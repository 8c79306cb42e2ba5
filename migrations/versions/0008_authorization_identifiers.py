"""authorization_identifiers: the patient's identifiers and the member id of each authorization, for token search

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 14:00:00.000000

Existing rows get their member id (without a system: the column never kept one); their Patient
identifiers are written for requests stored from this revision on.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "authorization_identifiers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("authorization_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("system", sa.String(length=512), nullable=True),
        sa.Column("value", sa.String(length=512), nullable=False),
        sa.ForeignKeyConstraint(
            ["authorization_id"],
            ["authorizations.id"],
            name=op.f("fk_authorization_identifiers_authorization_id_authorizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authorization_identifiers")),
    )
    op.create_index(
        "ix_authorization_identifiers_client_value", "authorization_identifiers", ["client_id", "value"], unique=False
    )
    op.create_index(
        "ix_authorization_identifiers_authorization_id", "authorization_identifiers", ["authorization_id"], unique=False
    )
    op.execute(
        "INSERT INTO authorization_identifiers (authorization_id, client_id, role, system, value) "
        "SELECT id, client_id, 'member', NULL, patient_member_id FROM authorizations "
        "WHERE patient_member_id IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_index("ix_authorization_identifiers_authorization_id", table_name="authorization_identifiers")
    op.drop_index("ix_authorization_identifiers_client_value", table_name="authorization_identifiers")
    op.drop_table("authorization_identifiers")
