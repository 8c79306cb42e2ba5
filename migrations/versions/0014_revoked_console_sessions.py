"""security: revoked_console_sessions, so a console logout ends the session on every process

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 12:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "revoked_console_sessions",
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_revoked_console_sessions")),
    )
    with op.batch_alter_table("revoked_console_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_revoked_console_sessions_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("revoked_console_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revoked_console_sessions_expires_at"))
    op.drop_table("revoked_console_sessions")
