"""authorizations by receipt: an index on received_at, so the CMS-0057-F report reads its period only

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 18:10:00.000000

The report (`app.reports.queries`) selects one period's requests by `received_at`; without an index
PostgreSQL scanned every authorization, so a year's report cost more the more years were stored.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_authorizations_received", "authorizations", ["received_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_authorizations_received", table_name="authorizations")
