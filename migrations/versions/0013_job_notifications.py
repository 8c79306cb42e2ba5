"""jobs: NOTIFY epa_jobs after each statement that inserts jobs (PostgreSQL), so idle workers wake at once

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 14:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A statement-level trigger: one notification per INSERT statement (a multi-row insert is one), which
# PostgreSQL folds with identical ones of the same transaction and delivers at commit, never before.
# Listeners: app.jobs.wakeups.listening. SQLite has no NOTIFY; its workers are woken in-process.


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE FUNCTION epa_notify_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('epa_jobs', '');
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER jobs_inserted AFTER INSERT ON jobs FOR EACH STATEMENT EXECUTE FUNCTION epa_notify_jobs()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS jobs_inserted ON jobs")
    op.execute("DROP FUNCTION IF EXISTS epa_notify_jobs()")
