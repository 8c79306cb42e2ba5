"""jobs: NOTIFY epa_jobs on insert only for queued rows (PostgreSQL), not for jobs written already claimed

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 19:20:00.000000

Migration 0013 notified after every statement that inserted jobs. A fan-out now writes the deliveries
that may go at once already leased to its own worker (`app.jobs.repository.enqueue_many`, claimed rows),
which runs them itself after the commit: nobody needs waking for them, yet the notification woke every
worker's listener, this one's included, into a claim that found nothing, beside the POSTs it was about
to make. The insert trigger becomes row-level with a WHEN clause (evaluated without calling the
function), firing for queued rows only; PostgreSQL folds the identical notifications of one transaction
into one, sent at commit, as before. Listeners: app.jobs.wakeups.listening.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS jobs_inserted ON jobs")
    op.execute(
        "CREATE TRIGGER jobs_inserted AFTER INSERT ON jobs FOR EACH ROW "
        "WHEN (NEW.state = 'queued') EXECUTE FUNCTION epa_notify_jobs()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS jobs_inserted ON jobs")
    op.execute(
        "CREATE TRIGGER jobs_inserted AFTER INSERT ON jobs FOR EACH STATEMENT EXECUTE FUNCTION epa_notify_jobs()"
    )
