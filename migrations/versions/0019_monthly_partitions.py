"""append-only tables range-partitioned by month on PostgreSQL (SQLite keeps plain tables)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 15:00:00.000000

`events`, `audit_records`, `coverage_assertions` and `subscription_notifications` become tables
partitioned by month on their time column, with a default partition so an insert never fails for
a month nobody created. The partitions live in the `epa_partitions` schema (the application and
Alembic see only the parents). Each table is rebuilt keeping its rows: a partitioned twin is
created with the old columns, defaults and check constraints, its months (the oldest row's month,
at most ten years back, to three months ahead) and default partition, the rows moved, the old
table dropped (its id sequence handed over first), the twin renamed, then the primary key (the id
plus the time column: PostgreSQL wants the partition key in every unique constraint), the foreign
keys and the indexes rebuilt under their old names. No foreign key points at these tables and none
of their inserts relies on ON CONFLICT, so the wider key changes no behaviour: ids still come from
one sequence per table. The downgrade does the reverse into plain tables.
The worker keeps months created ahead and retention drops whole old months
(`app.maintenance.partitions`); this migration is self-contained (it does not import that code).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "epa_partitions"
TABLES = {  # table: (partition key, id column)
    "events": ("at", "id"),
    "audit_records": ("at", "id"),
    "coverage_assertions": ("created_at", "id"),
    "subscription_notifications": ("created_at", "id"),
}
AHEAD = 3
OLDEST = 120  # months before now; rows older than that stay in the default partition


def _month(moment: datetime) -> tuple[int, int]:
    return moment.year, moment.month


def _shift(month: tuple[int, int], by: int) -> tuple[int, int]:
    index = month[0] * 12 + month[1] - 1 + by
    return index // 12, index % 12 + 1


def _bound(month: tuple[int, int]) -> str:
    return f"'{month[0]:04d}-{month[1]:02d}-01 00:00:00+00'"


def _months(connection: sa.Connection, table: str, key: str) -> list[tuple[int, int]]:
    now = _month(datetime.now(UTC))
    oldest = connection.execute(sa.text(f"SELECT min({key}) FROM {table}")).scalar()  # noqa: S608
    first = max(_month(oldest.astimezone(UTC)), _shift(now, -OLDEST)) if oldest else now
    first = min(first, now)
    months = [first]
    while months[-1] < _shift(now, AHEAD):
        months.append(_shift(months[-1], 1))
    return months


def _definitions(connection: sa.Connection, table: str) -> tuple[list[str], list[str]]:
    """The table's foreign keys (ALTER TABLE clauses) and secondary indexes (CREATE INDEX statements)."""
    foreign = connection.execute(
        sa.text(
            "SELECT format('ADD CONSTRAINT %I %s', conname, pg_get_constraintdef(oid)) FROM pg_constraint "
            "WHERE conrelid = CAST(:t AS regclass) AND contype = 'f' ORDER BY conname"
        ),
        {"t": table},
    ).scalars()
    indexes = connection.execute(
        sa.text(
            "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = CAST(:t AS regclass) AND NOT i.indisprimary ORDER BY c.relname"
        ),
        {"t": table},
    ).scalars()
    return list(foreign), [index.replace(" ON ONLY ", " ON ") for index in indexes]


def _rebuild(connection: sa.Connection, table: str, *, partitioned: bool) -> None:
    key, ident = TABLES[table]
    foreign, indexes = _definitions(connection, table)
    twin = f"{table}_rebuilt"
    layout = f"PARTITION BY RANGE ({key})" if partitioned else ""
    op.execute(
        f"CREATE TABLE {twin} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE) {layout}"
    )
    if partitioned:
        op.execute(f"CREATE TABLE {SCHEMA}.{table}_default PARTITION OF {twin} DEFAULT")
        for month in _months(connection, table, key):
            name = f"{SCHEMA}.{table}_{month[0]:04d}_{month[1]:02d}"
            op.execute(
                f"CREATE TABLE {name} PARTITION OF {twin} FOR VALUES FROM ({_bound(month)}) TO ({_bound(_shift(month, 1))})"
            )
    op.execute(f"INSERT INTO {twin} SELECT * FROM {table}")  # noqa: S608
    # statistics first: checking a foreign key per partition then probes the referenced key's index
    # instead of hashing the whole referenced table once per partition
    op.execute(f"ANALYZE {twin}")
    sequence = connection.execute(sa.text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table, "c": ident}).scalar()
    if sequence:
        op.execute(f"ALTER SEQUENCE {sequence} OWNED BY {twin}.{ident}")
    op.execute(f"DROP TABLE {table}")
    op.execute(f"ALTER TABLE {twin} RENAME TO {table}")
    columns = f"{ident}, {key}" if partitioned else ident
    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY ({columns})")
    for clause in foreign:
        op.execute(f"ALTER TABLE {table} {clause}")
    for index in indexes:
        op.execute(index)


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name != "postgresql":
        return
    op.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    for table in TABLES:
        _rebuild(connection, table, partitioned=True)


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name != "postgresql":
        return
    for table in TABLES:
        _rebuild(connection, table, partitioned=False)
    op.execute(f"DROP SCHEMA IF EXISTS {SCHEMA}")
