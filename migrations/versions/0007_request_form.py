"""authorizations.request_form: the accepted request's normalized form (validate once)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 11:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("authorizations") as batch:
        batch.add_column(sa.Column("request_form", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("authorizations") as batch:
        batch.drop_column("request_form")
