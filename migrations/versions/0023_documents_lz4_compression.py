"""documents: lz4 TOAST compression for the columns that hold them (PostgreSQL built with lz4)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-08 02:55:00.000000

PostgreSQL compresses a value of more than about 2 KB before storing it, with pglz unless a column asks
for another method. A `$submit` stores its request Bundle (12 KB in the benchmark), the request's typed
form and the ClaimResponse: compressing them with pglz was a third of the new-request write's time in
PostgreSQL (the authorization row 0.43 ms of 1.10 ms; with lz4 0.18 ms of 0.77 ms), and lz4 stored them
smaller too (1,958 bytes on average for the Bundle instead of 2,003). The other columns that hold
documents (attachments, appeal documents, webhook payloads, job payloads, timeline details) get the same.

Only values written from now on are compressed with lz4; stored values stay pglz and read as before. On a
partitioned table the method is set on the parent, which partitions created later copy, and on every
existing partition (PostgreSQL does not pass it down). A server built without lz4 keeps pglz: the
migration then changes nothing. SQLite has no such setting.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS: dict[str, tuple[str, ...]] = {
    "authorizations": ("request_document", "request_form", "response_document"),
    "attachments": ("content",),
    "appeal_documents": ("content",),
    "webhook_deliveries": ("payload",),
    "jobs": ("payload",),
    "events": ("detail",),
}


def _has_lz4() -> bool:
    found = op.get_bind().scalar(
        sa.text("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
    )
    return bool(found)


def _tables(table: str) -> list[str]:
    """The table and, when it is partitioned, each of its partitions (qualified, quoted)."""
    partitions = op.get_bind().scalars(
        sa.text("SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = CAST(:t AS regclass)"),
        {"t": table},
    )
    return [f'"{table}"', *partitions]


def _set(method: str) -> None:
    if op.get_bind().dialect.name != "postgresql" or (method == "lz4" and not _has_lz4()):
        return
    for table, columns in COLUMNS.items():
        changes = ", ".join(f'ALTER COLUMN "{column}" SET COMPRESSION {method}' for column in columns)
        for name in _tables(table):
            op.execute(f"ALTER TABLE {name} {changes}")


def upgrade() -> None:
    _set("lz4")


def downgrade() -> None:
    _set("default")
