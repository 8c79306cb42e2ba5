"""the timeline's payer errors: a partial index, so "needs attention" starts from them

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-08 00:40:00.000000

The operations' "needs attention" worklist asked, of every authorization it scanned, for its latest
timeline entry: on PostgreSQL, a probe of every month of the partitioned events table per
authorization, so a page that found few cost more the more authorizations and months were stored.
It now starts from the payer errors (this index: the few entries of those types) and the other
reasons, and reads only the authorizations they name. On a partitioned table the index is built on
every partition, and the partitions created later get it too.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PAYER_ERRORS = (
    "type IN ('payer-unreachable', 'payer-timed-out', 'payer-refused', 'payer-rejected', "
    "'payer-unreadable', 'payer-adapter-failed')"
)


def upgrade() -> None:
    op.create_index(
        "ix_events_payer_errors",
        "events",
        ["authorization_id", "id"],
        unique=False,
        postgresql_where=sa.text(PAYER_ERRORS),
        sqlite_where=sa.text(PAYER_ERRORS),
    )


def downgrade() -> None:
    op.drop_index("ix_events_payer_errors", table_name="events")
