"""The statements of monthly partitions (PostgreSQL only): list, create and drop one table's months.

Migration 0019 made the append-only tables below partitioned by month on their time column, with
a default partition; the partitions live in the `epa_partitions` schema and are named
`<table>_YYYY_MM` (`<table>_default` for the default one). Names and bounds are built from this
module's constants and dates, never from input. Nothing here commits: the caller's unit of work does.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

SCHEMA = "epa_partitions"
KEYS = {  # partitioned table: its partition key
    "events": "at",
    "audit_records": "at",
    "coverage_assertions": "created_at",
    "subscription_notifications": "created_at",
}
# What retention must keep of a month past its period (beside the period itself): failed or pending
# notifications are work for an operator, and a delivery may end after the month it was created in.
KEEP = {"subscription_notifications": "NOT (state = 'delivered' AND delivered_at < :cutoff)"}
_LOCK = "epa.partitions"  # an advisory lock: one process at a time changes partitions


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def partition_name(table: str, month: date) -> str:
    return f"{table}_{month:%Y_%m}"


def _bounds(month: date) -> str:
    return f"FROM ('{month:%Y-%m-01} 00:00:00+00') TO ('{next_month(month):%Y-%m-01} 00:00:00+00')"


def _where_month(table: str, month: date) -> str:
    key = KEYS[table]
    return f"{key} >= '{month:%Y-%m-01} 00:00:00+00' AND {key} < '{next_month(month):%Y-%m-01} 00:00:00+00'"


def is_partitioned(session: AsyncSession) -> bool:
    """True on PostgreSQL (migration 0019 partitioned the tables there); SQLite keeps plain tables."""
    return session.get_bind().dialect.name == "postgresql"


async def lock(session: AsyncSession) -> None:
    """Wait for (and hold until the transaction ends) the lock that serialises partition changes."""
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": _LOCK})


async def months(session: AsyncSession, table: str) -> list[date]:
    """The months `table` has a partition for, oldest first (the default partition is not one)."""
    names = await session.scalars(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = CAST(:table AS regclass)"
        ),
        {"table": table},
    )
    pattern = re.compile(rf"^{re.escape(table)}_(\d{{4}})_(\d{{2}})$")
    found = [pattern.match(name) for name in names]
    return sorted(date(int(m[1]), int(m[2]), 1) for m in found if m)


async def create_month(session: AsyncSession, table: str, month: date) -> None:
    """Create `table`'s partition for `month`; rows already in the default partition for that month move into it."""
    name, parent, default = partition_name(table, month), table, f"{SCHEMA}.{table}_default"
    in_month = _where_month(table, month)
    waiting = await session.scalar(text(f"SELECT EXISTS (SELECT 1 FROM {default} WHERE {in_month})"))  # noqa: S608
    if not waiting:
        await session.execute(
            text(f"CREATE TABLE IF NOT EXISTS {SCHEMA}.{name} PARTITION OF {parent} FOR VALUES {_bounds(month)}")
        )
        return
    # A month that rows reached first (a clock ahead, a worker down for months): the partition is
    # built beside the table, filled from the default partition, then attached.
    await session.execute(
        text(f"CREATE TABLE {SCHEMA}.{name} (LIKE {parent} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    )
    await session.execute(
        text(
            f"WITH moved AS (DELETE FROM {default} WHERE {in_month} RETURNING *) "  # noqa: S608
            f"INSERT INTO {SCHEMA}.{name} SELECT * FROM moved"
        )
    )
    await session.execute(text(f"ALTER TABLE {parent} ATTACH PARTITION {SCHEMA}.{name} FOR VALUES {_bounds(month)}"))


async def holds_rows_to_keep(session: AsyncSession, table: str, month: date, *, cutoff: datetime) -> bool:
    """Whether `table`'s partition for `month` holds a row retention keeps after `cutoff` (see KEEP)."""
    if table not in KEEP:
        return False
    name = f"{SCHEMA}.{partition_name(table, month)}"
    statement = text(f"SELECT EXISTS (SELECT 1 FROM {name} WHERE {KEEP[table]})")  # noqa: S608
    return bool(await session.scalar(statement, {"cutoff": cutoff}))


async def drop_month(session: AsyncSession, table: str, month: date) -> int:
    """Detach and drop `table`'s partition for `month`; returns how many rows went with it."""
    name = f"{SCHEMA}.{partition_name(table, month)}"
    rows = int(await session.scalar(text(f"SELECT count(*) FROM {name}")) or 0)  # noqa: S608
    await session.execute(text(f"ALTER TABLE {table} DETACH PARTITION {name}"))
    await session.execute(text(f"DROP TABLE {name}"))
    return rows
