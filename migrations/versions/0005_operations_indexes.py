"""operations: indexes for the authorization worklists (payer, overdue, expiring, provider)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 12:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES: dict[str, list[str]] = {
    "ix_authorizations_client_payer_updated": ["client_id", "payer_id", "updated_at", "id"],
    "ix_authorizations_client_provider_updated": ["client_id", "provider_identifier", "updated_at", "id"],
    "ix_authorizations_client_status_due": ["client_id", "status", "due_at"],
    "ix_authorizations_client_expires": ["client_id", "expires_at"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "authorizations", columns, unique=False)


def downgrade() -> None:
    for name in reversed(INDEXES):
        op.drop_index(name, table_name="authorizations")
