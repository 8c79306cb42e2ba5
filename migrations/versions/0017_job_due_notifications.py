"""jobs: NOTIFY epa_jobs also when an UPDATE makes a job due now (PostgreSQL), not only on INSERT

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 11:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# 0013 notifies after each INSERT statement. A job also becomes due through an UPDATE: a delivery
# woken when the one ahead of it settles, a retry or reschedule with no delay, jobs released at
# shutdown, an operator's retry. This row-level trigger fires only for those rows (its WHEN clause
# is evaluated without calling the function): the row is queued now and due by the database's
# clock, and it was not already a due queued job. PostgreSQL folds the identical notifications
# of one transaction into one, sent at commit. Listeners: app.jobs.wakeups.listening.


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE TRIGGER jobs_became_due AFTER UPDATE OF state, run_at ON jobs FOR EACH ROW
        WHEN (
            NEW.state = 'queued'
            AND NEW.run_at <= clock_timestamp()
            AND (OLD.state <> 'queued' OR OLD.run_at > clock_timestamp())
        )
        EXECUTE FUNCTION epa_notify_jobs()
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS jobs_became_due ON jobs")
